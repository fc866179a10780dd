"""Consume later observations of known posts (`reddit.refresh`)."""

from __future__ import annotations

from agents.enrich import consume
from streams.app import app
from streams.topics import refresh_topic

TOPIC = refresh_topic.get_topic_name()


@app.agent(refresh_topic)
async def process_refresh(stream):
    await consume(stream, TOPIC)
