"""Baseline (b): the seed's OPTIMISED processing design ("Optimisation Notes"), for bench/e2e.py.

An aiokafka consumer with manual commits; messages accumulate into 50-row batches flushed at
50 rows or every 2 s, each flush one transaction with one multi-row `INSERT … VALUES (…), (…) …
ON CONFLICT` per table (psycopg2's `execute_values`, written out with psycopg 3), then the
offsets are committed; VADER memoised in a process-local dict by post id; velocity in a
process-local TTL-aware dict (the seed's optimised `velocity_cache.py`). The seed's one Reddit
request per refreshed post is an ingest cost, not a processing one, and is not simulated here
(see docs/benchmarks.md): leaving it out only makes this baseline faster.

    python bench/baselines/optimised.py --bootstrap … --topics a,b --group g --database URL --expect N

Prints one JSON line when it has written N messages (or after --max-seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg
from aiokafka import AIOKafkaConsumer
from connection import kafka_security
from seed_sql import (
    HISTORY_COLUMNS,
    HISTORY_CONFLICT,
    HISTORY_VALUES,
    POST_COLUMNS,
    POST_CONFLICT,
    POST_VALUES,
    history_params,
    post_params,
    trending,
)
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

BATCH = 50
FLUSH_SECONDS = 2.0
TTL = 25 * 3600


def multi_row(table: str, columns: str, values: str, conflict: str, n: int) -> str:
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([values] * n)} {conflict}"


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topics", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--redis", default="")  # unused: the optimised design's caches are process-local
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--linger", action="store_true", help="stay alive after the end (the bench reads /proc)")
    a = ap.parse_args()

    vader = SentimentIntensityAnalyzer()
    sentiment_cache: dict[str, float] = {}
    velocity: dict[str, tuple[int, int, float]] = {}  # id -> (score, comments, observed_at)
    db = psycopg.connect(a.database)
    consumer = AIOKafkaConsumer(
        *a.topics.split(","),
        bootstrap_servers=a.bootstrap,
        **kafka_security(),
        group_id=a.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    print(json.dumps({"ready": True}), flush=True)
    posts: dict[str, tuple] = {}
    history: list[tuple] = []
    n = errors = flushes = 0
    t_first = None
    oldest = None
    deadline = time.monotonic() + a.max_seconds

    async def flush() -> None:
        nonlocal flushes, oldest
        if not history:
            return
        # a post twice in one batch would make ON CONFLICT DO UPDATE fail: keep its newest row
        prow = list(posts.values())
        with db.transaction():
            db.execute(
                multi_row("posts", POST_COLUMNS, POST_VALUES, POST_CONFLICT, len(prow)),
                [x for row in prow for x in row],
            )
            db.execute(
                multi_row("post_metrics_history", HISTORY_COLUMNS, HISTORY_VALUES, HISTORY_CONFLICT, len(history)),
                [x for row in history for x in row],
            )
        await consumer.commit()
        flushes += 1
        posts.clear()
        history.clear()
        oldest = None

    try:
        while n < a.expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=BATCH - len(history))
            for records in batch.values():
                for msg in records:
                    t_first = t_first or time.monotonic()
                    oldest = oldest or time.monotonic()
                    try:
                        s = json.loads(msg.value)
                        pid = s["id"]
                        sentiment = sentiment_cache.get(pid)
                        if sentiment is None:
                            sentiment = sentiment_cache[pid] = vader.polarity_scores(s["title"])["compound"]
                        prev = velocity.get(pid)
                        if prev and s["observed_at"] - prev[2] > TTL:
                            prev = None
                        sv = cv = 0.0
                        has = False
                        if prev and prev[2] < s["observed_at"]:
                            minutes = max((s["observed_at"] - prev[2]) / 60.0, 1 / 60)
                            sv, cv, has = (
                                (s["score"] - prev[0]) / minutes,
                                (s["num_comments"] - prev[1]) / minutes,
                                True,
                            )
                        if not prev or prev[2] < s["observed_at"]:
                            velocity[pid] = (s["score"], s["num_comments"], s["observed_at"])
                        score = trending(sv, s["num_comments"], sentiment)
                        row = post_params(s, sentiment, sv, cv, score, score >= 0.5)
                        old = posts.get(pid)
                        if old is None or old[5] < row[5]:
                            posts[pid] = row
                        history.append(history_params(s, sv if has else None, cv if has else None))
                    except Exception:  # noqa: BLE001 - the seed sent these to its DLQ
                        errors += 1
                    n += 1
            if len(history) >= BATCH or (oldest and time.monotonic() - oldest >= FLUSH_SECONDS):
                await flush()
        await flush()
    finally:
        elapsed = time.monotonic() - t_first if t_first else 0.0
        await consumer.stop()
        db.close()
    print(json.dumps({"processed": n, "errors": errors, "seconds": elapsed, "flushes": flushes}), flush=True)
    if a.linger:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main())
