"""Windowed per-subreddit stats: tumbling 1-minute and 1-hour windows (event time = observed_at).

Each window holds the count of new posts, the sum of their sentiment (mean = sum / count), the
summed score velocity and the number of observations. Minute windows are kept 2 hours, hour
windows 48 hours (`expires`; the changelog topics get the same retention).

The processing agents are partitioned by post id; these tables are keyed by subreddit. Each
worker sums its observations per (subreddit, minute) in a `StatsAccumulator` and sends the sums
once a second to a repartition topic keyed by subreddit (one message per subreddit and minute,
not one per event); `agents/stats.py` folds them into both tables. The stats are approximate
in one documented way: a worker killed with -9 loses at most its last second of sums, and a
redelivered event may be counted twice.
"""

from __future__ import annotations

from datetime import timedelta

import faust

from streams.app import app, settings


class StatsDelta(faust.Record, serializer="json", include_metadata=False):
    subreddit: str
    observed_at: float  # the start of the minute the sums belong to
    posts: int
    sentiment_sum: float
    score_velocity_sum: float
    observations: int


EMPTY = {"posts": 0, "sentiment_sum": 0.0, "score_velocity_sum": 0.0, "observations": 0}


class StatsAccumulator:
    """Sums per (subreddit, minute) between two drains. Pure; no I/O."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, float], list] = {}

    def add(
        self, subreddit: str, observed_at: float, *, new_post: bool, sentiment: float, score_velocity: float
    ) -> None:
        bucket = (subreddit, observed_at - observed_at % 60.0)
        s = self._sums.get(bucket)
        if s is None:
            s = self._sums[bucket] = [0, 0.0, 0.0, 0]
        if new_post:
            s[0] += 1
            s[1] += sentiment
        s[2] += score_velocity
        s[3] += 1

    def drain(self) -> list[StatsDelta]:
        sums, self._sums = self._sums, {}
        return [
            StatsDelta(
                subreddit=sub,
                observed_at=minute,
                posts=s[0],
                sentiment_sum=s[1],
                score_velocity_sum=s[2],
                observations=s[3],
            )
            for (sub, minute), s in sums.items()
        ]

    def __len__(self) -> int:
        return len(self._sums)


stats_topic = app.topic(
    # JSON keys: the windowed tables' router hashes the JSON-serialized key
    f"{settings.app_id}-subreddit-stats",
    key_type=str,
    value_type=StatsDelta,
    key_serializer="json",
    partitions=settings.topic_partitions,
    internal=True,
)

minute_stats = (
    app.Table(
        "subreddit_stats_1m",
        default=lambda: dict(EMPTY),
        key_type=str,
        partitions=settings.topic_partitions,
    )
    .tumbling(timedelta(minutes=1), expires=timedelta(hours=2))
    .relative_to_field(StatsDelta.observed_at)  # type: ignore[arg-type]  # faust takes a timestamp too
)

hour_stats = (
    app.Table(
        "subreddit_stats_1h",
        default=lambda: dict(EMPTY),
        key_type=str,
        partitions=settings.topic_partitions,
    )
    .tumbling(timedelta(hours=1), expires=timedelta(hours=48))
    .relative_to_field(StatsDelta.observed_at)  # type: ignore[arg-type]  # faust takes a timestamp too
)


def fold(current: dict, delta: StatsDelta) -> dict:
    return {
        "posts": current["posts"] + delta.posts,
        "sentiment_sum": current["sentiment_sum"] + delta.sentiment_sum,
        "score_velocity_sum": current["score_velocity_sum"] + delta.score_velocity_sum,
        "observations": current["observations"] + delta.observations,
    }


def summary(value: dict) -> dict:
    posts = value["posts"]
    return {
        "posts": posts,
        "observations": value["observations"],
        "mean_sentiment": (value["sentiment_sum"] / posts) if posts else None,
        "score_velocity_sum": value["score_velocity_sum"],
    }
