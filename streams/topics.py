"""The three topics (DESIGN §3). Values are raw bytes: agents decode them strictly."""
from __future__ import annotations

from streams.app import app, settings

posts_topic = app.topic(
    settings.topic_posts, key_type=str, value_serializer="raw", key_serializer="raw",
    partitions=settings.topic_partitions, internal=True,
)
refresh_topic = app.topic(
    settings.topic_refresh, key_type=str, value_serializer="raw", key_serializer="raw",
    partitions=settings.topic_partitions, internal=True,
)
dlq_topic = app.topic(
    settings.topic_dlq, value_serializer="raw", key_serializer="raw",
    partitions=settings.topic_partitions, internal=True,
)
