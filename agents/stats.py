"""Fold per-subreddit deltas (repartitioned by subreddit) into the windowed stats tables."""

from __future__ import annotations

from streams.app import app
from streams.processing.stats import fold
from tables.subreddit_stats import hour_stats, minute_stats, stats_topic


@app.agent(stats_topic)
async def fold_subreddit_stats(stream):
    async for delta in stream:
        for table in (minute_stats, hour_stats):
            table[delta.subreddit] = fold(table[delta.subreddit].current(), delta)
