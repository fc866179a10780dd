"""The JSON API (docs/design.md §6): stats, posts (keyset pages), a post with its history, a post's
comments (keyset pages), trending, subreddits. Every bad parameter is a 400 naming it (web.params),
an unknown post a 404, a database that does not answer a 503 (web.db)."""

from __future__ import annotations

from streams.app import app, settings
from web import queries
from web.cache import CachedValue
from web.errors import NotFound
from web.params import Query
from web.params import post_id as valid_post_id
from web.resources import database, redis

JSON = "application/json"
TTL_S = settings.velocity_ttl_hours * 3600.0  # "trending now": observed within the velocity TTL


async def _compute_stats() -> dict:
    return await queries.stats(database, ttl_seconds=TTL_S)


stats_cache = CachedValue(redis, f"{settings.app_id}:api:stats", settings.stats_cache_ttl, _compute_stats)


@app.page("/api/stats/")
async def stats(web, request):
    Query(request, ())
    return web.json(await stats_cache.get())


@app.page("/api/posts/")
async def posts(web, request):
    q = Query(request, ("subreddit", "limit", "cursor"))
    return web.bytes(
        await queries.posts_page(
            database, subreddit=q.subreddit(), limit=q.integer("limit", 50, 1, 200), after=q.text("cursor")
        ),
        content_type=JSON,
    )


@app.page("/api/posts/{post_id}/")
async def post(web, request, post_id: str):
    Query(request, ())
    found = await queries.post_detail(database, valid_post_id(post_id))
    if found is None:
        raise NotFound(f"no post {post_id}")
    return web.json(found)


@app.page("/api/posts/{post_id}/comments/")
async def post_comments(web, request, post_id: str):
    q = Query(request, ("limit", "cursor"))
    return web.bytes(
        await queries.comments_page(
            database, valid_post_id(post_id), limit=q.integer("limit", 50, 1, 200), after=q.text("cursor")
        ),
        content_type=JSON,
    )


@app.page("/api/trending/")
async def trending(web, request):
    q = Query(request, ("subreddit", "limit"))
    return web.bytes(
        await queries.trending(
            database, subreddit=q.subreddit(), limit=q.integer("limit", 50, 1, 200), ttl_seconds=TTL_S
        ),
        content_type=JSON,
    )


@app.page("/api/subreddits/")
async def subreddits(web, request):
    Query(request, ())
    return web.json(await queries.subreddits(database, ttl_seconds=TTL_S))
