"""Processing benchmark: events/s of the full enrichment path (decode → sentiment → velocity →
trending → observation + stats + Redis mirror, with the sink writing to PostgreSQL in the same
worker), for one worker and for two workers, and Redis round trips per event.

    .venv/bin/python bench/processing_bench.py [--posts 6000] [--refreshes 4]

The workers are started first (fresh topics and app id per run) and, once the group is stable,
the events are produced as fast as the broker takes them; the rate is events processed / time
from the first to the last processed event, read from the workers' /metrics
(redditstream_events_total). Redis round trips are the mirror's pipelined
flushes plus its server checks (redditstream_redis_mirror_round_trips_total). Uses the stack of
.env.local (tools/stack.sh up).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import harness  # noqa: E402
from tests.scenario import random_posts, send  # noqa: E402


def run(n_workers: int, posts: int, refreshes: int, workdir: Path) -> dict:
    env = harness.stack_env()
    uid = harness.unique("")
    base = {**os.environ, **env, "APP_ID": f"bench-{uid}", "TOPIC_POSTS": f"bench.{uid}.posts",
            "TOPIC_REFRESH": f"bench.{uid}.refresh", "TOPIC_DLQ": f"bench.{uid}.dlq",
            "TOPIC_OBSERVATIONS": f"bench.{uid}.observations", "LOG_LEVEL": "warning"}
    script = random_posts(time.time(), posts, refreshes, seed=1, prefix="b")
    workers = [harness.Worker(env={**base, "WEB_PORT": str(harness.free_port()),
                                   "DATA_DIR": str(workdir / f"{uid}-{i}")}, name=f"{uid}-{i}", workdir=workdir)
               for i in range(1, n_workers + 1)]
    for w in workers:
        w.start(wait_ready=False)
    for w in workers:
        w.wait_ready(120)
    # a stable assignment first (every worker owns some of the 16 source partitions), so the
    # measurement is of processing, not of the group forming
    def owned(w: harness.Worker) -> int:
        return w.get_json("/ready/")["kafka"]["assigned_partitions"]
    harness.wait_for(lambda: all(owned(w) > 0 for w in workers) and sum(owned(w) for w in workers) == 16,
                     120, "a stable assignment")
    time.sleep(3)
    total = send(base, base["TOPIC_POSTS"], script.firsts) + send(base, base["TOPIC_REFRESH"], script.refreshes)

    def processed() -> float:
        return sum(w.metric("redditstream_events_total", outcome="ok") for w in workers)

    t_first = None
    done = 0.0
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        done = processed()
        now = time.monotonic()
        if done > 0 and t_first is None:
            t_first, n_first = now, done
        if done >= total:
            break
        time.sleep(0.25)
    t_last = time.monotonic()
    trips = sum(w.metric("redditstream_redis_mirror_round_trips_total") for w in workers)
    written = sum(w.metric("redditstream_redis_mirror_written_total") for w in workers)
    for w in workers:
        w.kill()
    rate = (done - n_first) / (t_last - t_first) if t_first and t_last > t_first else float("nan")
    return {"workers": n_workers, "events": int(done), "of": total, "rate": rate,
            "redis_round_trips": trips, "redis_written": written}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=6000)
    ap.add_argument("--refreshes", type=int, default=4)
    ap.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated (default 1,2)")
    args = ap.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    keep = os.environ.get("BENCH_WORKDIR")  # keep the workers' logs and data there
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(keep) if keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = [run(n, args.posts, args.refreshes, workdir) for n in counts]
    print(f"full enrichment path, {results[0]['of']} events "
          f"({args.posts} new posts + {args.posts * args.refreshes} refreshes), 8 partitions, sink on:")
    for r in results:
        per = r["redis_round_trips"] / r["events"] if r["events"] else float("nan")
        print(f"  {r['workers']} worker(s): {r['rate']:8.0f} events/s   ({r['events']}/{r['of']} processed)   "
              f"Redis: {r['redis_round_trips']:.0f} round trips for {r['redis_written']:.0f} mirrored entries "
              f"= {per:.4f} round trips/event")
    if len(results) > 1:
        print(f"  {results[-1]['workers']} workers / {results[0]['workers']}: "
              f"{results[-1]['rate'] / results[0]['rate']:.2f}x "
              f"(on {os.cpu_count()} cores shared with Kafka, PostgreSQL and Redis)")


if __name__ == "__main__":
    main()
