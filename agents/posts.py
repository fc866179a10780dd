"""Consume first observations of posts (`reddit.posts`)."""

from __future__ import annotations

from agents.enrich import consume
from streams.app import app
from streams.topics import posts_topic

TOPIC = posts_topic.get_topic_name()


@app.agent(posts_topic)
async def process_posts(stream):
    await consume(stream, TOPIC)
