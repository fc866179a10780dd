"""`GET /api/subreddits/{name}/stats/`: the windowed per-subreddit stats (1-minute and 1-hour)."""

from __future__ import annotations

from streams.app import app
from streams.processing.stats import summary
from tables.subreddit_stats import hour_stats, minute_stats
from web.params import Query, subreddit_name
from web.routing import routed


@app.page("/api/subreddits/{name}/stats/")
@routed(minute_stats, "name")
async def subreddit_stats(web, request, name: str):
    Query(request, ())
    subreddit_name(name)
    return web.json(
        {
            "subreddit": name,
            "minute": summary(minute_stats[name].now(), 1.0),
            "hour": summary(hour_stats[name].now(), 60.0),
        }
    )
