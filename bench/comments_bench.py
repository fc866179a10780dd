"""Comments benchmark: comments/s into PostgreSQL with one worker, and the worker's CPU per comment,
next to the same worker's CPU per new post in the same run (the ratio is what the machine's noise
leaves comparable).

    .venv/bin/python bench/comments_bench.py [--comments 40000] [--posts 800]

One worker on its own topics, app id, PostgreSQL and Redis (bench/common.py: the bench's own
servers, so nothing else writes there). Phase 1: `--posts` new posts, then `--comments` comments
of those posts (Reddit's shapes, a tenth of the bodies deleted or removed), produced as ingest
sends them (streams.ingest.producer: JSON arrays per partition batch, keyed by post id) as fast
as the broker takes them. Rates are counted from the first comment processed to the last comment
processed ("processed": redditstream_events_total of the comments topic) and to the last comment
row committed ("in PostgreSQL": the `comments` table's count); CPU is the worker's user + system
time over the processing window, per comment. Phase 2 (the posts): the same measure for `--posts`
new posts, so the two CPU figures come from one worker in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    bench_env,
    cpu_seconds,
    machine_busy_seconds,
    new_worker,
    own_servers,
    wait_stable,
)
from streams.ingest.producer import BufferedProducer, Record  # noqa: E402
from tests import harness  # noqa: E402
from tests.comment_shapes import snapshot as comment  # noqa: E402
from tests.scenario import snapshot as post  # noqa: E402


def send(env: dict[str, str], topic: str, records: list[tuple[str, dict]]) -> float:
    """Through ingest's producer (batches per partition); the seconds it took."""

    async def run() -> float:
        t0 = time.monotonic()
        producer = BufferedProducer(
            {**harness.kafka(env), "acks": "all", "enable_idempotence": True},
            capacity=20_000,
            linger=0.02,
        )
        await producer.start()
        try:
            for key, value in records:
                await producer.put(Record(topic, key, json.dumps(value).encode()))
            assert await producer.drain(300)
        finally:
            await producer.stop()
        return time.monotonic() - t0

    return asyncio.run(run())


def measure(w: harness.Worker, topic: str, total: int, stored, produce) -> dict:
    """Produce (in a thread: the producer is not on the worker's CPU clock) and watch the worker."""
    import threading

    sent: list[float] = []
    thread = threading.Thread(target=lambda: sent.append(produce()), daemon=True)
    thread.start()

    def processed() -> float:
        return w.metric("redditstream_events_total", topic=topic, outcome="ok")

    t_first = t_done = t_stored = None
    cpu0 = cpu1 = busy0 = busy = float("nan")
    n0 = 0.0
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and t_stored is None:
        done, now = processed(), time.monotonic()
        if done > 0 and t_first is None:
            t_first, n0, cpu0, busy0 = now, done, cpu_seconds(w.proc.pid), machine_busy_seconds()
        if done >= total and t_done is None:
            t_done, cpu1 = now, cpu_seconds(w.proc.pid)
            busy = (machine_busy_seconds() - busy0) / (t_done - t_first)
        if t_done is not None and stored() >= total:
            t_stored = now
        time.sleep(0.1)
    thread.join(60)
    counted = total - n0
    nan = float("nan")
    return {
        "rate": counted / (t_done - t_first) if t_first and t_done else nan,
        "stored_rate": counted / (t_stored - t_first) if t_first and t_stored else nan,
        "cpu_us": 1e6 * (cpu1 - cpu0) / counted if counted else nan,
        "busy": busy,
        "send_s": sent[0] if sent else nan,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--comments", type=int, default=40_000)
    ap.add_argument("--posts", type=int, default=800)
    args = ap.parse_args()
    now = time.time()
    pids = [f"bp{i:x}" for i in range(args.posts)]
    comments = [
        comment(i, pids[i % args.posts], sub=["python", "rust", "golang"][i % 3], created=now - 7200 + i * 0.1)
        for i in range(args.comments)
    ]
    more_posts = [post(f"bq{i:x}", now - 30, 5, 2, sub=["python", "rust"][i % 2]) for i in range(args.posts * 10)]
    with own_servers() as (workdir, pg, redis_srv):
        uid = harness.unique("")
        db = pg.database(f"bench_comments_{uid}")
        env = bench_env(harness.stack_env(), uid, db, redis_srv.url)
        w = new_worker(env, workdir, "c").start(wait_ready=False)
        w.wait_ready(120)
        wait_stable([w])
        send(env, env["TOPIC_POSTS"], [(p, post(p, now - 7300, 5, 50)) for p in pids])
        harness.wait_for(lambda: harness.query(db, "SELECT count(*) FROM posts")[0][0] == args.posts, 120, "posts")
        c = measure(
            w,
            env["TOPIC_COMMENTS"],
            args.comments,
            lambda: harness.query(db, "SELECT count(*) FROM comments")[0][0],
            lambda: send(env, env["TOPIC_COMMENTS"], [(x["post_id"], x) for x in comments]),
        )
        exact = harness.query(
            db,
            "SELECT count(*) FROM posts p WHERE comments_seen <> (SELECT count(*) FROM comments c "
            "WHERE c.post_id = p.post_id)",
        )[0][0]
        p = measure(
            w,
            env["TOPIC_POSTS"],
            args.posts + len(more_posts),
            lambda: harness.query(db, "SELECT count(*) FROM posts")[0][0],
            lambda: send(env, env["TOPIC_POSTS"], [(x["id"], x) for x in more_posts]),
        )
        w.kill()
    print(
        f"comments, 1 worker, 8 partitions, sink on ({args.comments} comments of {args.posts} posts, "
        f"produced in {c['send_s']:.1f} s as ingest batches them):"
    )
    print(
        f"  {c['rate']:7.0f} comments/s processed, {c['stored_rate']:7.0f} comments/s in PostgreSQL, "
        f"worker CPU {c['cpu_us']:.0f} us/comment, machine {c['busy']:.2f} of {os.cpu_count()} cores busy; "
        f"posts whose comments_seen is not their count: {exact}"
    )
    print(
        f"  the same worker on {len(more_posts)} new posts: {p['rate']:7.0f} posts/s processed, "
        f"{p['stored_rate']:7.0f} posts/s in PostgreSQL, worker CPU {p['cpu_us']:.0f} us/post; "
        f"a comment costs {c['cpu_us'] / p['cpu_us']:.2f}x a post's CPU"
    )


if __name__ == "__main__":
    main()
