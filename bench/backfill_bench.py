"""Backfill benchmark: reading + mapping alone, and posts/s into PostgreSQL through one worker.

    .venv/bin/python bench/backfill_bench.py [--lines 1000000] [--skip-e2e]

A generated dump (`RS_bench.zst`: `--lines` submissions of both generations, a 2 GiB zstd
window like the real dumps) is read three ways:
1. in this process, `backfill_file` with no producer: lines/s of decompress + split + JSON +
   mapping on one core (target ≥ 50,000);
2. `faust -A streams backfill --dry-run`: the same through the command, and its peak RSS;
3. `faust -A streams backfill` into a fresh worker (own topics, app id and database): posts/s
   from the command's start until the last post is in PostgreSQL (target ≥ 5,000), the
   command's own rate and peak RSS.
Uses the stack of .env.local (tools/stack.sh up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.backfill.mapping import Filter  # noqa: E402
from streams.backfill.progress import Counts  # noqa: E402
from streams.backfill.run import backfill_file  # noqa: E402
from tests import harness  # noqa: E402
from tests.dumps import submission, write_zst  # noqa: E402


def command(env: dict, workdir: Path, *args: str) -> tuple[dict, float, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [str(harness.BIN / "faust"), "-A", "streams", "backfill", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return (
        json.loads(proc.stdout.strip().splitlines()[-1]),
        time.monotonic() - started,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--skip-e2e", action="store_true", help="only the reading benchmarks")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="backfill-bench-"))
    try:
        now = time.time()
        t0 = time.monotonic()
        path = write_zst(
            workdir / "RS_bench.zst",
            (
                submission(
                    i,
                    generation="new" if i % 2 else "old",
                    sub=("python", "rust", "golang")[i % 3],
                    created=now - 30 * 86400 + i,
                    prefix="k",
                )
                for i in range(args.lines)
            ),
        )
        print(
            f"generated {args.lines} lines: {path.stat().st_size / 1e6:.1f} MB compressed in "
            f"{time.monotonic() - t0:.1f}s"
        )

        counts = Counts()
        t0, c0 = time.monotonic(), time.process_time()
        asyncio.run(
            backfill_file(
                path,
                put=None,
                drain=lambda: None,
                topic="x",
                filt=Filter(),
                counts=counts,
                checkpoint=None,
                selftext_max=2000,
                resume=False,
                tty=False,
            )
        )
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
        print(
            f"1. read + map in-process: {counts.lines / wall:,.0f} lines/s wall, {counts.lines / cpu:,.0f} lines/s "
            f"per CPU second ({counts.matched} mapped, {sum(counts.bad.values())} bad)"
        )

        env = {**os.environ, **harness.stack_env(), "LOG_LEVEL": "warning"}
        summary, secs, rss = command(env, workdir, str(path), "--dry-run")
        print(
            f"2. backfill --dry-run: {summary['lines_per_s']:,} lines/s, {summary['mb_per_s']} MB/s compressed, "
            f"{secs:.1f}s with start-up, peak RSS {rss:.0f} MB"
        )
        if args.skip_e2e:
            return

        uid = harness.unique("")
        url = harness.create_database(env["DATABASE_URL"], f"bench_backfill_{uid}")
        wenv = {
            **env,
            "DATABASE_URL": url,
            "APP_ID": f"bench-{uid}",
            "TOPIC_POSTS": f"bench.{uid}.posts",
            "TOPIC_REFRESH": f"bench.{uid}.refresh",
            "TOPIC_DLQ": f"bench.{uid}.dlq",
            "TOPIC_OBSERVATIONS": f"bench.{uid}.observations",
            "TOPIC_BACKFILL": f"bench.{uid}.backfill",
            "TOPIC_COMMENTS": f"bench.{uid}.comments",
            "WEB_PORT": str(harness.free_port()),
            "DATA_DIR": str(workdir / "data"),
            "BACKFILL_CHECKPOINT": str(workdir / "cp.json"),
        }
        worker = harness.Worker(env=wenv, name="worker", workdir=workdir).start(timeout=120)
        try:
            c0 = worker_cpu(worker)
            t0 = time.monotonic()
            summary, secs, rss = command(wenv, workdir, str(path))
            print(
                f"3. backfill into the topic: {summary['produced'] / secs:,.0f} records/s ({secs:.1f}s with "
                f"start-up), peak RSS {rss:.0f} MB"
            )

            def in_db() -> int:
                with psycopg.connect(url, autocommit=True) as conn:
                    return conn.execute("SELECT count(*) FROM posts").fetchone()[0]

            harness.wait_for(lambda: in_db() >= summary["produced"], 3600, "every post in PostgreSQL", interval=1.0)
            total = time.monotonic() - t0
            cpu = worker_cpu(worker) - c0
            with psycopg.connect(url, autocommit=True) as conn:
                size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
            print(
                f"   into PostgreSQL: {summary['produced'] / total:,.0f} posts/s end to end ({total:.1f}s), "
                f"worker CPU {cpu / summary['produced'] * 1e6:.0f} µs per post, database "
                f"{size / 1e6 / summary['produced'] * 1e6:,.0f} MB per million posts (posts + history + indexes)"
            )
        finally:
            worker.kill()
            harness.drop_database(url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def worker_cpu(worker: harness.Worker) -> float:
    with open(f"/proc/{worker.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
