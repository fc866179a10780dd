"""Consume first observations of posts."""
from __future__ import annotations

import logging

from streams.app import app
from streams.records import InvalidMessage, decode_snapshot
from streams.topics import posts_topic
from web.metrics import EVENTS

log = logging.getLogger(__name__)


@app.agent(posts_topic)
async def process_posts(stream):  # noqa: ANN001
    async for event in stream.events():
        try:
            decode_snapshot(event.value)
        except InvalidMessage:
            EVENTS.labels(posts_topic.get_topic_name(), "invalid").inc()
            continue
        EVENTS.labels(posts_topic.get_topic_name(), "ok").inc()
