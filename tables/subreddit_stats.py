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

from streams.app import app, settings
from streams.processing.stats import EMPTY, StatsDelta

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
