"""Consume first observations of posts (`reddit.posts`)."""
from __future__ import annotations

from agents.enrich import handle
from streams.app import app
from streams.topics import posts_topic

TOPIC = posts_topic.get_topic_name()


@app.agent(posts_topic)
async def process_posts(stream):  # noqa: ANN001
    # manual acks: an event is acked once its observation's batch (or its dead letter) is on
    # the broker (agents.enrich)
    async for event in stream.noack().events():
        await handle(event, TOPIC)
