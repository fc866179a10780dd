"""Sink benchmark: throughput and database round trips per row, next to a one-row-per-statement
baseline on the same data; then end-to-end latency (produce → committed row) through a worker at
1,000 events/s.

    .venv/bin/python bench/sink_bench.py [--rows 20000] [--rate 1000] [--seconds 20]

Round trips are counted at the protocol level: libpq's trace (`PGconn.trace`) of the writing
connection, counting the server's ReadyForQuery messages (one per client wait: BEGIN, each
statement, COMMIT). Throughput runs are untraced. Uses the stack of .env.local (its own
databases, dropped at the end) and real Kafka for the latency part.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streams.db.rows import ObservationRow  # noqa: E402
from streams.db.writer import Item, write_batch  # noqa: E402
from tests import harness  # noqa: E402

BASELINE_HISTORY = """INSERT INTO post_metrics_history (post_id, observed_at, subreddit, score, num_comments,
    upvote_ratio, score_velocity, comment_velocity) VALUES (%s, to_timestamp(%s), %s, %s, %s, %s, %s, %s)
    ON CONFLICT (post_id, observed_at) DO NOTHING"""
BASELINE_POST = """INSERT INTO posts (post_id, subreddit, title, author, created_utc, last_observed_at, score,
    num_comments, upvote_ratio, url, permalink, over_18, sentiment, score_velocity, comment_velocity,
    trending_score, is_trending)
    VALUES (%s, %s, %s, %s, to_timestamp(%s), to_timestamp(%s), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (post_id) DO UPDATE SET score = EXCLUDED.score, num_comments = EXCLUDED.num_comments,
    upvote_ratio = EXCLUDED.upvote_ratio, last_observed_at = EXCLUDED.last_observed_at,
    score_velocity = EXCLUDED.score_velocity, comment_velocity = EXCLUDED.comment_velocity,
    trending_score = EXCLUDED.trending_score, is_trending = EXCLUDED.is_trending, sentiment = EXCLUDED.sentiment
    WHERE posts.last_observed_at < EXCLUDED.last_observed_at"""


def rows(n: int, posts: int = 2000) -> list[ObservationRow]:
    t = 1_700_000_000.0
    return [
        ObservationRow(
            f"b{i % posts:x}",
            "python",
            "title",
            "alice",
            t - 60,
            t + i,
            i,
            i % 50,
            0.9,
            "",
            "",
            False,
            0.1,
            1.0,
            0.5,
            0.3,
            False,
            True,
        )
        for i in range(n)
    ]


def create_db(admin: str, base: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    p = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    return url


async def timed(url: str, trace: bool, body) -> tuple[float, int]:
    """Run `body(conn)` on a fresh connection over emptied tables: (seconds, round trips if traced)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("TRUNCATE posts, post_metrics_history")
        f = tempfile.NamedTemporaryFile("w+", delete=False) if trace else None  # noqa: SIM115 (read back by name after untrace)
        if f:
            conn.pgconn.trace(f.fileno())
        t0 = time.perf_counter()
        await body(conn)
        dt = time.perf_counter() - t0
        if f:
            conn.pgconn.untrace()
    return dt, count_round_trips(f.name) if f else 0


async def run_sink(url: str, data: list[ObservationRow], batch: int, trace: bool) -> tuple[float, int]:
    async def body(conn) -> None:
        for i in range(0, len(data), batch):
            await write_batch(conn, [Item(r, None) for r in data[i : i + batch]])

    return await timed(url, trace, body)


async def run_baseline(url: str, data: list[ObservationRow], batch: int, trace: bool) -> tuple[float, int]:
    async def body(conn) -> None:
        for i in range(0, len(data), batch):
            async with conn.transaction():
                for r in data[i : i + batch]:
                    await conn.execute(
                        BASELINE_HISTORY,
                        (
                            r.post_id,
                            r.observed_at,
                            r.subreddit,
                            r.score,
                            r.num_comments,
                            r.upvote_ratio,
                            r.score_velocity,
                            r.comment_velocity,
                        ),
                    )
                    await conn.execute(
                        BASELINE_POST,
                        (
                            r.post_id,
                            r.subreddit,
                            r.title,
                            r.author,
                            r.created_utc,
                            r.observed_at,
                            r.score,
                            r.num_comments,
                            r.upvote_ratio,
                            r.url,
                            r.permalink,
                            r.over_18,
                            r.sentiment,
                            r.score_velocity,
                            r.comment_velocity,
                            r.trending_score,
                            r.is_trending,
                        ),
                    )

    return await timed(url, trace, body)


def count_round_trips(path: str) -> int:
    with open(path) as fh:
        n = sum(1 for line in fh if "\tB\t" in line and "\tReadyForQuery" in line)
    os.unlink(path)
    return n


def latency(stack: dict[str, str], url: str, rate: float, seconds: float, flush: float) -> list[float]:
    from tests.integration.sinkutil import observation

    with psycopg.connect(url, autocommit=True) as c:
        c.execute("TRUNCATE posts, post_metrics_history")
        # bench database only: when each row was written (the flush commits right after)
        c.execute("ALTER TABLE post_metrics_history ADD COLUMN written_at timestamptz DEFAULT clock_timestamp()")
    uid = harness.unique("")
    tmp = Path(tempfile.mkdtemp(prefix="rs-bench-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TOPIC_", "APP_ID", "WEB_"))},
        **stack,
        "DATABASE_URL": url,
        "APP_ID": f"rs-bench-{uid}",
        "TOPIC_POSTS": f"bench.{uid}.posts",
        "TOPIC_REFRESH": f"bench.{uid}.refresh",
        "TOPIC_DLQ": f"bench.{uid}.dlq",
        "TOPIC_OBSERVATIONS": f"bench.{uid}.observations",
        "WEB_PORT": str(harness.free_port()),
        "DATA_DIR": str(tmp / "data"),
        "SINK_FLUSH_SECONDS": str(flush),
        "LOG_LEVEL": "warning",
    }
    w = harness.Worker(env=env, name="bench", workdir=tmp).start()
    try:
        n = int(rate * seconds)
        # observed_at = the send time: latency = written_at - observed_at
        t_start = time.time() + 0.5

        async def go():
            from aiokafka import AIOKafkaProducer

            from streams.records import encode

            p = AIOKafkaProducer(**harness.kafka(env), acks="all", linger_ms=5)
            await p.start()
            try:
                futs = []
                for i in range(n):
                    target = t_start + i / rate
                    delay = target - time.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    pid = f"l{i % 5000:x}"
                    futs.append(
                        await p.send(
                            env["TOPIC_OBSERVATIONS"],
                            key=pid.encode(),
                            value=encode(observation(pid, time.time(), score=i)),
                        )
                    )
                await asyncio.gather(*futs)
            finally:
                await p.stop()

        asyncio.run(go())
        harness.wait_for(
            lambda: psycopg.connect(url).execute("SELECT count(*) FROM post_metrics_history").fetchone()[0] >= n,
            120,
            "all rows",
        )
        with psycopg.connect(url) as c:
            return [
                r[0]
                for r in c.execute(
                    "SELECT extract(epoch FROM written_at - observed_at)::float8 FROM post_metrics_history"
                )
            ]
    finally:
        w.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--flush", type=float, default=2.0)
    a = ap.parse_args()
    stack = harness.stack_env()
    base = stack["DATABASE_URL"].rsplit("/", 1)[0]
    name = harness.unique("bench_sink_")
    url = create_db(base + "/postgres", base, name)
    try:
        data = rows(a.rows)
        sink_dt, _ = asyncio.run(run_sink(url, data, a.batch, trace=False))
        _, sink_rt = asyncio.run(run_sink(url, data, a.batch, trace=True))
        base_dt, _ = asyncio.run(run_baseline(url, data, a.batch, trace=False))
        _, base_rt = asyncio.run(run_baseline(url, data, a.batch, trace=True))
        print(f"sink throughput, {a.rows} rows, batches of {a.batch} (PostgreSQL {stack['DATABASE_URL']}):")
        print(f"  {'':28}{'rows/s':>10}{'round trips':>13}{'per row':>10}")
        print(f"  {'sink (JSON rows, 1 tx/batch)':28}{a.rows / sink_dt:>10,.0f}{sink_rt:>13,}{sink_rt / a.rows:>10.4f}")
        print(f"  {'baseline (1 row/statement)':28}{a.rows / base_dt:>10,.0f}{base_rt:>13,}{base_rt / a.rows:>10.4f}")
        print(f"  round trips: {base_rt / sink_rt:.0f}x fewer; throughput: {base_dt / sink_dt:.1f}x higher")
        lat = sorted(latency(stack, url, a.rate, a.seconds, a.flush))
        q = statistics.quantiles(lat, n=100)
        print(
            f"end to end, produce -> row written, {len(lat)} events at {a.rate:.0f}/s through a worker "
            f"(SINK_BATCH_SIZE=500, SINK_FLUSH_SECONDS={a.flush}):"
        )
        print(f"  p50 {q[49]:.3f} s   p99 {q[98]:.3f} s   max {lat[-1]:.3f} s   (target p99 <= {a.flush + 1:.1f} s)")
    finally:
        with psycopg.connect(base + "/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
