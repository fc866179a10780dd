"""PostgreSQL stopped for 30 s in the middle of a stream: no crash, nothing lost, resumes by itself.

The server stopped is a throwaway one started by this test, never the shared one.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests import harness
from tests.integration.pgserver import PgServer
from tests.integration.sinkutil import history_counts, produce, scalar, stream_of

N = 6_000
RATE = 150.0  # events/s: the stream lasts 40 s, the outage 30 s of it


@pytest.fixture
def own_postgres():
    srv = PgServer.create()
    yield srv
    srv.destroy()


def test_postgres_down_30s_mid_stream(start_worker, worker_env, own_postgres):
    db = own_postgres.url
    w = start_worker(DATABASE_URL=db, SINK_RETRY_MAX_SECONDS="2")
    producer = threading.Thread(
        target=lambda: asyncio.run(
            produce(worker_env, worker_env["TOPIC_OBSERVATIONS"], stream_of(N, posts=500), rate=RATE)
        )
    )
    producer.start()
    harness.wait_for(lambda: scalar(db, "SELECT count(*) FROM post_metrics_history") >= 300, 60, "first rows")
    own_postgres.stop()
    t_down = time.monotonic()
    while time.monotonic() - t_down < 30:  # PostgreSQL stays down 30 s: the scenario, not a wait
        assert w.alive(), f"the worker died while PostgreSQL was down:\n{w.tail()}"
        time.sleep(1)
    assert w.metric("redditstream_sink_retries_total", agent="sink") >= 1  # it noticed, and kept retrying
    own_postgres.start()
    producer.join(120)
    harness.wait_for(lambda: history_counts(db)[0] >= N, 120, f"all {N} rows after PostgreSQL returned")
    assert w.alive()
    assert history_counts(db) == (N, N)
    assert scalar(db, "SELECT count(*) FROM dlq_events") == 0
