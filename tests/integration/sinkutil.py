"""Helpers of the storage tests: Observation records, fast batched produce, row counts."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import psycopg

from streams.records import Observation, PostSnapshot, encode
from tests import kafka_tools

# a whole second a week ago: inside RETENTION_DAYS (older history is not written), exact as a float
BASE_T = float(int(time.time()) - 7 * 86400)


def observation(
    pid: str,
    observed_at: float,
    *,
    score: int = 10,
    num_comments: int = 2,
    upvote_ratio: float = 0.9,
    subreddit: str = "python",
    velocity: float = 1.5,
) -> Observation:
    snap = PostSnapshot(
        id=pid,
        subreddit=subreddit,
        title=f"post {pid}",
        created_utc=BASE_T - 60,
        observed_at=observed_at,
        score=score,
        num_comments=num_comments,
        upvote_ratio=upvote_ratio,
        author="alice",
        url="https://example.org",
        permalink=f"/r/{subreddit}/comments/{pid}/",
        source="refresh",
    )
    return Observation(
        snapshot=snap,
        sentiment=0.25,
        score_velocity=velocity,
        comment_velocity=0.5,
        trending_score=0.4,
        is_trending=False,
        has_velocity=True,
    )


def stream_of(n: int, posts: int = 2000) -> list[tuple[str, Observation]]:
    """n observations of `posts` posts; every (post_id, observed_at) distinct."""
    out = []
    for i in range(n):
        pid = f"p{i % posts:x}"
        out.append((pid, observation(pid, BASE_T + i, score=i)))
    return out


async def produce(
    env: dict[str, str],
    topic: str,
    items: Iterable[tuple[str, bytes | Observation]],
    rate: float | None = None,
    chunk: int = 1000,
) -> list[float]:
    """Send keyed values, Observations encoded (tests/kafka_tools.py `produce_async`); batched,
    or paced at `rate`/s. Returns send times."""
    encoded = ((key, value if isinstance(value, (bytes, bytearray)) else encode(value)) for key, value in items)
    return await kafka_tools.produce_async(env, topic, encoded, rate=rate, chunk=chunk)


def scalar(url: str, sql: str, params: Sequence | None = None):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


def history_counts(url: str) -> tuple[int, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT (post_id, observed_at)) FROM post_metrics_history"
        ).fetchone()
