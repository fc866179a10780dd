"""kill -9 of a worker in the middle of a 50,000-event stream, then a restart: exactly one row each."""

from __future__ import annotations

import asyncio
import threading

import psycopg

from tests import harness
from tests.integration.sinkutil import BASE_T, history_counts, produce, scalar, stream_of

N = 50_000


def test_kill9_mid_stream_then_restart_loses_and_duplicates_nothing(start_worker, worker_env, database):
    env = {"DATABASE_URL": database, "KAFKA_SESSION_TIMEOUT": "8", "SINK_BATCH_SIZE": "500"}
    w1 = start_worker("w1", **env)
    items = stream_of(N)
    producer = threading.Thread(
        target=lambda: asyncio.run(produce(worker_env, worker_env["TOPIC_OBSERVATIONS"], items))
    )
    producer.start()
    # kill it once a good part, but not all, is committed
    harness.wait_for(
        lambda: scalar(database, "SELECT count(*) FROM post_metrics_history") >= 8_000, 120, "the first rows"
    )
    w1.kill()
    killed_at = scalar(database, "SELECT count(*) FROM post_metrics_history")
    producer.join(120)
    assert not producer.is_alive()
    assert killed_at < N, "the worker finished before it could be killed"
    start_worker("w2", **env)
    harness.wait_for(lambda: history_counts(database)[0] >= N, 180, f"{N} rows after the restart")
    total, distinct = history_counts(database)
    assert (total, distinct) == (N, N)
    with psycopg.connect(database) as conn:
        missing = conn.execute(
            "SELECT count(*) FROM generate_series(0, %s - 1) AS i "
            "WHERE NOT EXISTS (SELECT 1 FROM post_metrics_history h WHERE h.post_id = 'p' || to_hex(i %% 2000) "
            "AND h.observed_at = to_timestamp(%s + i))",
            (N, BASE_T),
        ).fetchone()[0]
    assert missing == 0
    assert scalar(database, "SELECT count(*) FROM posts") == 2000
    assert scalar(database, "SELECT count(*) FROM dlq_events") == 0
