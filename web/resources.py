"""What the web views share in one worker: the database pool and the Redis client."""

from __future__ import annotations

import redis.asyncio as aioredis

from streams.app import app, settings
from web.db import WebDatabase

database = WebDatabase(settings.database_url.get_secret_value(), max_size=settings.db_pool_max)
redis = aioredis.Redis.from_url(settings.redis_url.get_secret_value(), socket_timeout=2, socket_connect_timeout=2)


@app.on_before_shutdown.connect  # type: ignore[arg-type]  # mode's stub wants a `signal` kwarg
async def close_resources(app_, **kwargs) -> None:
    await database.close()
    await redis.aclose()
