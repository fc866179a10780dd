"""Archive benchmark: `backfill --archive` from the archive simulator into PostgreSQL.

    flock /tmp/heavy.lock .venv/bin/python bench/archive_bench.py [--posts 60000] [--subreddits 3]

The archive simulator (`faust -A streams simulate --archive`, its clock frozen) holds `--posts`
posts over `--subreddits` subreddits. Each case runs `faust -A streams backfill --archive` into a
fresh worker (own topics, app id and database) and reports:
- posts/s from the command's start until the last post is in PostgreSQL, and the command's own rate;
- requests per 1,000 posts (the summary's count, and the simulator's log of what it served);
- the backfill command's CPU per post.
Cases: one post per second (pages of 100 that never share a second), and `burst` posts in one
second (the ask-again pager re-reads the border second of each page; a second fuller than a page
is asked with limit=auto), with `after` exclusive and inclusive. The request rate is unthrottled
here (ARCHIVE_REQUESTS_PER_SECOND=1000): the default of 1 request/s caps a run at 100 posts/s,
whatever the pipeline can do. Uses the stack of .env.local (tools/stack.sh up).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import Request, urlopen

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import bench_env  # noqa: E402
from tests import harness  # noqa: E402

CASES = (  # (name, posts created in one second, after inclusive)
    ("one post a second, after exclusive", 1, False),
    ("20 posts a second, after exclusive", 20, False),
    ("20 posts a second, after inclusive", 20, True),
)


def call(port: int, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = Request(f"http://127.0.0.1:{port}{path}", data=data, headers={"Content-Type": "application/json"})
    with urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def run_case(stack: dict, workdir: Path, subs: list[str], per_sub: int, burst: int, inclusive: bool) -> dict:
    uid = harness.unique("")
    port = harness.free_port()
    url = harness.create_database(stack["DATABASE_URL"], f"bench_archive_{uid}")
    cenv = {
        **bench_env(stack, uid, url, stack["REDIS_URL"]),
        "WEB_PORT": str(harness.free_port()),
        "DATA_DIR": str(workdir / f"data-{uid}"),
        "SIMULATOR_PORT": str(port),
        "SIMULATOR_SUBREDDITS": ",".join(subs),
        "SIMULATOR_HISTORY_POSTS": str(per_sub),
        "SIMULATOR_POSTS_PER_HOUR": str(3600 * burst),  # `burst` posts every second
        "SIMULATOR_BURST": str(burst),
        "SIMULATOR_SPEED": "0",
        "SIMULATOR_RATELIMIT_BUDGET": "1000000",
        "ARCHIVE_API_URL": f"http://127.0.0.1:{port}",
        "ARCHIVE_REQUESTS_PER_SECOND": "1000",
        "ARCHIVE_CHECKPOINT": str(workdir / f"cp-{uid}.json"),
    }
    sim = harness.Process(env=cenv, name=f"sim-{uid}", workdir=workdir, args=("simulate", "--archive")).start()
    worker = None
    try:
        harness.wait_for(lambda: harness.port_open("127.0.0.1", port) or not sim.alive(), 60, "the archive simulator")
        assert sim.alive(), sim.tail()
        call(port, "/_sim/archive/config", {"after_inclusive": inclusive})
        total = sum(len(call(port, f"/_sim/posts?subreddit={s}")["ids"]) for s in subs)
        worker = harness.Worker(env=cenv, name=f"worker-{uid}", workdir=workdir).start(timeout=120)
        t0 = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [
                str(harness.BIN / "faust"),
                "-A",
                "streams",
                "backfill",
                "--archive",
                "--subreddits",
                ",".join(subs),
                "--since",
                "2000-01-01",
            ],
            cwd=workdir,
            env=cenv,
            capture_output=True,
            text=True,
        )
        command_secs = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert proc.returncode == 0, proc.stderr[-3000:]
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        assert summary["produced"] == total, (summary["produced"], total)

        def in_db() -> int:
            with psycopg.connect(url, autocommit=True) as conn:
                return conn.execute("SELECT count(*) FROM posts").fetchone()[0]

        harness.wait_for(lambda: in_db() >= total, 3600, "every post in PostgreSQL", interval=0.5)
        e2e = time.monotonic() - t0
        served = call(port, "/_sim/requests?since=0")["next"]
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return {
            "posts": total,
            "posts_per_s_e2e": total / e2e,
            "posts_per_s_command": total / command_secs,
            "requests": summary["requests"],
            "served": served,
            "requests_per_1000": 1000 * summary["requests"] / total,
            "cpu_us_per_post": cpu / total * 1e6,
            "e2e_s": e2e,
        }
    finally:
        if worker is not None:
            worker.kill()
        sim.kill()
        harness.drop_database(url)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=60_000, help="posts in all, over the subreddits")
    ap.add_argument("--subreddits", type=int, default=3)
    args = ap.parse_args()
    subs = [f"bench{i}" for i in range(args.subreddits)]
    stack = harness.stack_env()
    workdir = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    try:
        for name, burst, inclusive in CASES:
            r = run_case(stack, workdir, subs, args.posts // len(subs), burst, inclusive)
            print(
                f"{name}: {r['posts']:,} posts, {r['posts_per_s_e2e']:,.0f} posts/s into PostgreSQL "
                f"({r['e2e_s']:.1f}s), the command {r['posts_per_s_command']:,.0f} posts/s; "
                f"{r['requests_per_1000']:.1f} requests per 1,000 posts ({r['requests']} asked, {r['served']} served); "
                f"command CPU {r['cpu_us_per_post']:.0f} µs per post",
                flush=True,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
