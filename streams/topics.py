"""The topics (docs/design.md §3). Values are raw bytes: agents decode them strictly."""

from __future__ import annotations

from streams.app import app, settings
from streams.records import Observation

posts_topic = app.topic(
    settings.topic_posts,
    key_type=str,
    value_serializer="raw",
    key_serializer="raw",
    partitions=settings.topic_partitions,
    internal=True,
)
refresh_topic = app.topic(
    settings.topic_refresh,
    key_type=str,
    value_serializer="raw",
    key_serializer="raw",
    partitions=settings.topic_partitions,
    internal=True,
)
# Snapshots from the dump files (faust -A streams backfill), processed by agents/backfill.py.
backfill_topic = app.topic(
    settings.topic_backfill,
    key_type=str,
    value_serializer="raw",
    key_serializer="raw",
    partitions=settings.topic_partitions,
    internal=True,
)
# Comments, keyed by their POST id: a post's comments share its partition and its state.
comments_topic = app.topic(
    settings.topic_comments,
    key_type=str,
    value_serializer="raw",
    key_serializer="raw",
    partitions=settings.topic_partitions,
    internal=True,
)
dlq_topic = app.topic(
    settings.topic_dlq,
    value_serializer="raw",
    key_serializer="raw",
    partitions=settings.topic_partitions,
    internal=True,
)
# Enriched observations: the durable hand-off from the processing agents to the sink.
# The processing agents' source offsets are committed after these sends are flushed (faust
# flushes the producer before every commit); the sink commits its offsets after the DB commit.
observations_topic = app.topic(
    settings.topic_observations,
    key_type=str,
    value_type=Observation,
    key_serializer="raw",
    partitions=settings.topic_partitions,
    internal=True,
)
