"""A worker against the real broker: it starts, answers, and consumes a PostSnapshot."""

from __future__ import annotations

import time

from tests import harness
from tests.kafka_tools import produce_json


def snapshot(pid: str, **over) -> dict:
    now = time.time()
    return {
        "id": pid,
        "subreddit": "python",
        "title": "Faust makes streams easy",
        "selftext": "",
        "author": "alice",
        "created_utc": now - 60,
        "observed_at": now,
        "score": 10,
        "num_comments": 2,
        "upvote_ratio": 0.9,
        "url": "https://example.org",
        "over_18": False,
        "permalink": f"/r/python/comments/{pid}/",
        "source": "new",
        **over,
    }


def test_worker_answers_health_and_ready(start_worker):
    w = start_worker()
    health = w.get_json("/health/")
    assert health["status"] == "ok"
    ready = w.get_json("/ready/")
    assert ready["ready"] is True
    assert ready["kafka"]["assigned_partitions"] > 0
    assert ready["database"] == "ok" and ready["redis"] == "ok"


def test_worker_consumes_a_post_snapshot(start_worker, worker_env):
    w = start_worker()
    topic = worker_env["TOPIC_POSTS"]
    produce_json(worker_env, topic, [snapshot("abc123")])
    harness.wait_for(
        lambda: w.metric("redditstream_events_total", topic=topic, outcome="ok") >= 1,
        60,
        "the worker to consume the snapshot",
    )
    assert w.metric("redditstream_events_total", topic=topic, outcome="ok") == 1
