"""Processing benchmark: events/s of the full enrichment path (decode → sentiment → velocity →
trending → observation + stats + Redis mirror, with the sink writing to PostgreSQL in the same
worker), for one worker and for two workers, and Redis round trips per event.

    .venv/bin/python bench/processing_bench.py [--posts 6000] [--refreshes 4]

The workers are started first (fresh topics and app id per run) and, once the group is stable,
the events are produced as fast as the broker takes them (the workers start on them at once).
The rates are counted from the end of production (what was processed by then is left out),
so the producer does not share the CPU in the window: "enriched" up to the last event
processed by the enrich agents (redditstream_events_total), "in PostgreSQL" up to the last row
committed by the sink (redditstream_sink_rows_total); both read from the workers' /metrics.
Worker CPU is the workers' user + system time over the enrichment window, per event (less noisy
than a rate on a shared machine); "machine busy" is how many of the machine's cores all its
processes (workers, Kafka, PostgreSQL, Redis) kept busy then: what is left for a second worker.
Redis round trips are the mirror's flushes (one scripted command each) plus its server checks
(redditstream_redis_mirror_round_trips_total). Uses the
stack of .env.local (tools/stack.sh up).
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
    base = {
        **os.environ,
        **env,
        "APP_ID": f"bench-{uid}",
        "TOPIC_POSTS": f"bench.{uid}.posts",
        "TOPIC_REFRESH": f"bench.{uid}.refresh",
        "TOPIC_DLQ": f"bench.{uid}.dlq",
        "TOPIC_OBSERVATIONS": f"bench.{uid}.observations",
        "TOPIC_BACKFILL": f"bench.{uid}.backfill",
        "TOPIC_COMMENTS": f"bench.{uid}.comments",
        "LOG_LEVEL": "warning",
    }
    script = random_posts(time.time(), posts, refreshes, seed=1, prefix="b")
    workers = [
        harness.Worker(
            env={**base, "WEB_PORT": str(harness.free_port()), "DATA_DIR": str(workdir / f"{uid}-{i}")},
            name=f"{uid}-{i}",
            workdir=workdir,
        )
        for i in range(1, n_workers + 1)
    ]
    for w in workers:
        w.start(wait_ready=False)
    for w in workers:
        w.wait_ready(120)

    # a stable assignment first (every worker owns some of the 16 source partitions), so the
    # measurement is of processing, not of the group forming
    def owned(w: harness.Worker) -> int:
        return w.get_json("/ready/")["kafka"]["assigned_partitions"]

    harness.wait_for(
        lambda: all(owned(w) > 0 for w in workers) and sum(owned(w) for w in workers) == 16, 120, "a stable assignment"
    )
    time.sleep(3)
    t_send = time.monotonic()
    total = send(base, base["TOPIC_POSTS"], script.firsts) + send(base, base["TOPIC_REFRESH"], script.refreshes)
    send_seconds = time.monotonic() - t_send

    def processed() -> float:
        return sum(w.metric("redditstream_events_total", outcome="ok") for w in workers)

    def written() -> float:
        return sum(w.metric("redditstream_sink_rows_total", outcome="written") for w in workers)

    t_first = t_processed = t_written = None
    busy_first = busy = float("nan")
    n_first = done = rows = 0.0
    cpu_first: dict[int, float] = {}
    cpu_processed: dict[int, float] = {}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and t_written is None:
        done, rows, now = processed(), written(), time.monotonic()
        if done > 0 and t_first is None:
            t_first, n_first, cpu_first = now, done, {w.proc.pid: cpu_seconds(w.proc.pid) for w in workers}
            busy_first = machine_busy_seconds()
        if done >= total and t_processed is None:
            t_processed, cpu_processed = now, {w.proc.pid: cpu_seconds(w.proc.pid) for w in workers}
            busy = (machine_busy_seconds() - busy_first) / (t_processed - t_first)
        if rows >= total:
            t_written = now
        time.sleep(0.25)
    trips = sum(w.metric("redditstream_redis_mirror_round_trips_total") for w in workers)
    mirrored = sum(w.metric("redditstream_redis_mirror_written_total") for w in workers)
    for w in workers:
        w.kill()
    nan = float("nan")
    counted = done - n_first
    cpu = sum(cpu_processed.get(pid, nan) - cpu_first.get(pid, nan) for pid in cpu_first)
    return {
        "workers": n_workers,
        "events": int(done),
        "of": total,
        "rows": int(rows),
        "rate": counted / (t_processed - t_first) if t_first and t_processed else nan,
        "end_to_end": counted / (t_written - t_first) if t_first and t_written else nan,
        "cpu_us": 1e6 * cpu / counted if counted else nan,
        "busy_cores": busy,
        "redis_round_trips": trips,
        "redis_written": mirrored,
        "send_seconds": send_seconds,
    }


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine spent busy so far (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    print(
        f"full enrichment path, {results[0]['of']} events "
        f"({args.posts} new posts + {args.posts * args.refreshes} refreshes), 8 partitions, sink on:"
    )
    for r in results:
        per = r["redis_round_trips"] / r["events"] if r["events"] else float("nan")
        print(
            f"  {r['workers']} worker(s): {r['rate']:6.0f} events/s enriched, {r['end_to_end']:6.0f} events/s "
            f"in PostgreSQL   ({r['events']}/{r['of']} processed, {r['rows']} rows; "
            f"produced in {r['send_seconds']:.1f} s)   "
            f"worker CPU {r['cpu_us']:.0f} us/event, machine {r['busy_cores']:.2f} of {os.cpu_count()} cores busy   "
            f"Redis: {r['redis_round_trips']:.0f} round trips for {r['redis_written']:.0f} mirrored entries "
            f"= {per:.4f} round trips/event"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"  {last['workers']} workers / {first['workers']}: {last['rate'] / first['rate']:.2f}x enriched, "
            f"{last['end_to_end'] / first['end_to_end']:.2f}x in PostgreSQL "
            f"(on {os.cpu_count()} cores shared with Kafka, PostgreSQL and Redis)"
        )


if __name__ == "__main__":
    main()
