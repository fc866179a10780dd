"""Consume backfilled snapshots (`reddit.backfill`, from `faust -A streams backfill`).

Each one becomes an observation for the sink like a live one (agents.enrich.handle: manual
acks, dead letters), but through `HISTORICAL` (the enricher's `historical`): sentiment
computed, no velocity, not trending, and no live state touched (velocity table, Redis mirror,
per-subreddit windows). The sink never lets an older observation overwrite a newer one in
`posts`, so a backfilled post that live ingest has seen since keeps its live row.
"""

from __future__ import annotations

from agents.enrich import HISTORICAL, consume
from streams.app import app
from streams.topics import backfill_topic

TOPIC = backfill_topic.get_topic_name()


@app.agent(backfill_topic)
async def process_backfill(stream):
    await consume(stream, TOPIC, HISTORICAL)
