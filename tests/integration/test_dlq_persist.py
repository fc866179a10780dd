"""Dead letters on the DLQ topic land in `dlq_events`, once each, with their payload intact."""

from __future__ import annotations

import asyncio

import psycopg

from streams.records import DeadLetter, encode
from tests import harness
from tests.integration.sinkutil import produce, scalar


def envelope(i: int) -> DeadLetter:
    return DeadLetter(
        source_topic="reddit.posts",
        partition=i % 3,
        offset=100 + i,
        key=f"k{i}",
        payload='{"id": 1}',
        error_type="InvalidMessage",
        error="field 'id' must be str",
        failed_at=1_700_000_000.0 + i,
        attempt=1,
        worker="w",
    )


def test_dead_letters_are_persisted_idempotently(start_worker, worker_env, database):
    w = start_worker(DATABASE_URL=database)
    items = [(f"k{i}", encode(envelope(i))) for i in range(20)]
    items += items[:5]  # redelivered envelopes: stored once
    items.append(("x", b"not an envelope"))
    asyncio.run(produce(worker_env, worker_env["TOPIC_DLQ"], items))
    # wait until every message, the 5 redeliveries included, went through a committed write
    # (the counter counts rows written, duplicates too): only then is the count final
    harness.wait_for(
        lambda: w.metric("redditstream_dlq_persisted_total") >= len(items),
        60,
        f"all {len(items)} DLQ messages written, redeliveries included\n{w.tail(20)}",
    )
    assert w.metric("redditstream_dlq_persisted_total") == len(items) == 26
    assert scalar(database, "SELECT count(*) FROM dlq_events") == 21
    with psycopg.connect(database) as conn:
        row = conn.execute(
            'SELECT source_topic, "partition", "offset", key, payload, error_type, attempt, '
            "extract(epoch FROM failed_at) FROM dlq_events WHERE key = 'k7'"
        ).fetchone()
        broken = conn.execute(
            "SELECT source_topic, payload, error_type FROM dlq_events WHERE source_topic = %s",
            (worker_env["TOPIC_DLQ"],),
        ).fetchone()
    assert row == ("reddit.posts", 1, 107, "k7", '{"id": 1}', "InvalidMessage", 1, 1_700_000_007)
    assert broken == (worker_env["TOPIC_DLQ"], "not an envelope", "MalformedDeadLetter")
