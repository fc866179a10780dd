"""Web API benchmark: requests/s and latency percentiles of the JSON API under `wrk`, from a second
process on loopback, against one worker whose database was filled through the pipeline.

    .venv/bin/python bench/web_bench.py [--posts 20000] [--seconds 10] [--connections 32]

Side by side in one run: `/api/stats/` with its Redis cache (STATS_CACHE_TTL=30, the default)
and without (a second worker on the same data with STATS_CACHE_TTL=0: one SQL statement per
burst of concurrent requests, which share it in the worker); `/api/posts/` first page and a page
100 pages deep (keyset: the same cost); and
`/api/trending/`. The queries each run counted from the workers' own
`redditstream_web_queries_total`. Needs `wrk` (Debian's package; installed with apt when
missing) and the stack of .env.local (tools/stack.sh up).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import harness  # noqa: E402
from tests.scenario import random_posts, send  # noqa: E402


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        print("[bench] installing wrk (Debian package)", file=sys.stderr)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        path = shutil.which("wrk")
    assert path, "wrk is not installed"
    return path


def seconds(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    assert m, value
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def wrk(binary: str, url: str, secs: int, connections: int) -> dict:
    out = subprocess.run(
        [binary, "-t2", f"-c{connections}", f"-d{secs}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=secs + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": seconds(lat["50"]),
        "p99": seconds(lat["99"]),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    binary = ensure_wrk()
    env = harness.stack_env()
    uid = harness.unique("")
    db_url = harness.create_database(env["DATABASE_URL"], f"bench_web_{uid}")
    workdir = Path(tempfile.mkdtemp(prefix="web-bench-"))
    workers: list[harness.Worker] = []
    try:
        base = {
            **os.environ,
            **env,
            "DATABASE_URL": db_url,
            "APP_ID": f"bench-{uid}",
            "TOPIC_POSTS": f"bench.{uid}.posts",
            "TOPIC_REFRESH": f"bench.{uid}.refresh",
            "TOPIC_DLQ": f"bench.{uid}.dlq",
            "TOPIC_OBSERVATIONS": f"bench.{uid}.observations",
            "TOPIC_BACKFILL": f"bench.{uid}.backfill",
            "TOPIC_COMMENTS": f"bench.{uid}.comments",
            "LOG_LEVEL": "warning",
            "MAINTENANCE_INTERVAL_SECONDS": "2",
        }
        cached = harness.Worker(
            env={**base, "WEB_PORT": str(harness.free_port()), "DATA_DIR": str(workdir / "a")},
            name="cached",
            workdir=workdir,
        ).start(timeout=120)
        workers.append(cached)
        script = random_posts(time.time(), args.posts, 2, seed=3, prefix="w")
        total = send(base, base["TOPIC_POSTS"], script.firsts)
        harness.wait_for(
            lambda: cached.metric("redditstream_sink_rows_total", outcome="written") >= total,
            300,
            "the posts in PostgreSQL",
        )
        total += send(base, base["TOPIC_REFRESH"], script.refreshes)
        harness.wait_for(
            lambda: cached.metric("redditstream_sink_rows_total", outcome="written") >= total,
            300,
            "the refreshes in PostgreSQL",
        )
        # the API-only worker: its own group and topics, the same database, no cache
        other = harness.unique("")
        uncached = harness.Worker(
            env={
                **base,
                "WEB_PORT": str(harness.free_port()),
                "DATA_DIR": str(workdir / "b"),
                "STATS_CACHE_TTL": "0",
                "APP_ID": f"bench-{other}",
                "TOPIC_POSTS": f"bench.{other}.posts",
                "TOPIC_REFRESH": f"bench.{other}.refresh",
                "TOPIC_DLQ": f"bench.{other}.dlq",
                "TOPIC_OBSERVATIONS": f"bench.{other}.observations",
                "TOPIC_BACKFILL": f"bench.{other}.backfill",
                "TOPIC_COMMENTS": f"bench.{other}.comments",
            },
            name="uncached",
            workdir=workdir,
        ).start(timeout=120)
        workers.append(uncached)
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("ANALYZE")
            n_posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        depth = max(1, min(100, n_posts // 50 - 1))
        page = cached.get_json("/api/posts/?limit=50")
        for _ in range(depth - 1):
            page = cached.get_json(f"/api/posts/?limit=50&cursor={page['next_cursor']}")
        deep = page["next_cursor"]
        cases = [
            ("stats, Redis-cached", cached, "/api/stats/"),
            ("stats, no Redis cache", uncached, "/api/stats/"),
            ("posts, first page (50)", cached, "/api/posts/?limit=50"),
            (f"posts, page {depth + 1} (keyset)", cached, f"/api/posts/?limit=50&cursor={deep}"),
            ("trending (50)", cached, "/api/trending/?limit=50"),
        ]
        print(
            f"web bench: {n_posts} posts, wrk -t2 -c{args.connections} -d{args.seconds}s on loopback, "
            f"{os.cpu_count()} cores shared by wrk, the worker, PostgreSQL, Redis and Kafka"
        )
        print(f"{'route':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8} {'non-2xx':>8}")
        results = {}
        for label, w, path in cases:
            name = {"/api/stats/": "stats", "/api/trending/": "trending"}.get(path.split("?")[0], "posts_page")
            before = w.metric("redditstream_web_queries_total", query=name)
            r = wrk(binary, w.url + path, args.seconds, args.connections)
            done = r["rps"] * args.seconds
            sql = (w.metric("redditstream_web_queries_total", query=name) - before) / max(done, 1)
            results[label] = r
            print(
                f"{label:34} {r['rps']:>9.0f} {r['p50'] * 1e3:>8.2f} {r['p99'] * 1e3:>8.2f} {sql:>8.4f} "
                f"{r['non2xx']:>8}" + (f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else "")
            )
        ratio = results["stats, Redis-cached"]["rps"] / results["stats, no Redis cache"]["rps"]
        print(
            f"stats: Redis-cached / no Redis cache = {ratio:.1f}x requests/s (without the cache, concurrent "
            "requests in one worker still share one statement: the single flight)"
        )
        print(
            json.dumps(
                {k: {m: round(v, 6) if isinstance(v, float) else v for m, v in r.items()} for k, r in results.items()}
            )
        )
    finally:
        for w in workers:
            w.kill()
        harness.drop_database(db_url)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
