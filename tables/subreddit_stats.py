"""Windowed per-subreddit stats: tumbling 1-minute and 1-hour windows (event time = observed_at).

Each window holds the count of new posts, the sum of their sentiment (mean = sum / count) and
the summed score velocity of all observations. Minute windows are kept 2 hours, hour windows
48 hours (`expires`; the changelog topics get the same retention).

The processing agents are partitioned by post id; these tables are keyed by subreddit, so the
agents send a small `StatsDelta` to a repartition topic keyed by subreddit and one agent here
folds it into both tables.
"""
from __future__ import annotations

from datetime import timedelta

import faust

from streams.app import app, settings


class StatsDelta(faust.Record, serializer="json", include_metadata=False):
    subreddit: str
    observed_at: float
    new_posts: int
    sentiment_sum: float
    score_velocity: float


EMPTY = {"posts": 0, "sentiment_sum": 0.0, "score_velocity_sum": 0.0, "observations": 0}

stats_topic = app.topic(
    # JSON keys: the windowed tables' router hashes the JSON-serialized key
    f"{settings.app_id}-subreddit-stats", key_type=str, value_type=StatsDelta, key_serializer="json",
    partitions=settings.topic_partitions, internal=True,
)

minute_stats = app.Table(
    "subreddit_stats_1m", default=lambda: dict(EMPTY), key_type=str,
    partitions=settings.topic_partitions,
).tumbling(timedelta(minutes=1), expires=timedelta(hours=2)).relative_to_field(StatsDelta.observed_at)

hour_stats = app.Table(
    "subreddit_stats_1h", default=lambda: dict(EMPTY), key_type=str,
    partitions=settings.topic_partitions,
).tumbling(timedelta(hours=1), expires=timedelta(hours=48)).relative_to_field(StatsDelta.observed_at)


def fold(current: dict, delta: StatsDelta) -> dict:
    return {
        "posts": current["posts"] + delta.new_posts,
        "sentiment_sum": current["sentiment_sum"] + delta.sentiment_sum,
        "score_velocity_sum": current["score_velocity_sum"] + delta.score_velocity,
        "observations": current["observations"] + 1,
    }


def summary(value: dict) -> dict:
    posts = value["posts"]
    return {
        "posts": posts,
        "observations": value["observations"],
        "mean_sentiment": (value["sentiment_sum"] / posts) if posts else None,
        "score_velocity_sum": value["score_velocity_sum"],
    }
