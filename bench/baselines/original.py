"""Baseline (a): the seed's ORIGINAL processing design, for bench/e2e.py.

One message at a time (an aiokafka consumer, auto-committed offsets as the seed's
kafka-python consumer did), VADER on every message, the velocity state in a Redis hash read
(HGETALL) and written (HSET + EXPIRE) per event, and one autocommitted SQL statement per message
(a single statement upserting `posts` and inserting the `post_metrics_history` row).

    python bench/baselines/original.py --bootstrap 127.0.0.1:9092 --topics a,b --group g \
        --database URL --redis URL --expect N [--max-seconds S]

Prints one JSON line when it has processed N messages (or after S seconds).
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
import redis
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

STATEMENT = (
    f"WITH p AS (INSERT INTO posts ({POST_COLUMNS}) VALUES {POST_VALUES} {POST_CONFLICT}) "
    f"INSERT INTO post_metrics_history ({HISTORY_COLUMNS}) VALUES {HISTORY_VALUES} {HISTORY_CONFLICT}"
)
TTL = 25 * 3600


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topics", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--redis", required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--linger", action="store_true", help="stay alive after the end (the bench reads /proc)")
    a = ap.parse_args()

    vader = SentimentIntensityAnalyzer()
    r = redis.Redis.from_url(a.redis)
    db = psycopg.connect(a.database, autocommit=True)
    consumer = AIOKafkaConsumer(
        *a.topics.split(","),
        bootstrap_servers=a.bootstrap,
        **kafka_security(),
        group_id=a.group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    await consumer.start()
    print(json.dumps({"ready": True}), flush=True)
    n = errors = 0
    t_first = None
    deadline = time.monotonic() + a.max_seconds
    try:
        while n < a.expect and time.monotonic() < deadline:
            try:
                msg = await asyncio.wait_for(consumer.getone(), timeout=1.0)
            except TimeoutError:
                continue
            t_first = t_first or time.monotonic()
            try:
                s = json.loads(msg.value)
                sentiment = vader.polarity_scores(s["title"])["compound"]  # every message
                key = f"vel:{s['id']}"
                prev = r.hgetall(key)  # read ...
                sv = cv = 0.0
                has = False
                if prev and float(prev[b"ts"]) < s["observed_at"]:
                    minutes = max((s["observed_at"] - float(prev[b"ts"])) / 60.0, 1 / 60)
                    sv = (s["score"] - int(prev[b"score"])) / minutes
                    cv = (s["num_comments"] - int(prev[b"comments"])) / minutes
                    has = True
                if not prev or float(prev[b"ts"]) < s["observed_at"]:
                    pipe = r.pipeline(transaction=False)  # ... and written, per event
                    pipe.hset(key, mapping={"score": s["score"], "comments": s["num_comments"], "ts": s["observed_at"]})
                    pipe.expire(key, TTL)
                    pipe.execute()
                score = trending(sv, s["num_comments"], sentiment)
                db.execute(
                    STATEMENT,
                    post_params(s, sentiment, sv, cv, score, score >= 0.5)
                    + history_params(s, sv if has else None, cv if has else None),
                )
            except Exception:  # noqa: BLE001 - the seed logged and went on
                errors += 1
            n += 1
    finally:
        elapsed = time.monotonic() - t_first if t_first else 0.0
        await consumer.stop()
        db.close()
    print(json.dumps({"processed": n, "errors": errors, "seconds": elapsed}), flush=True)
    if a.linger:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main())
