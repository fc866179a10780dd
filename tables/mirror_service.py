"""The worker's Redis mirror and the task that flushes it."""

from __future__ import annotations

import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge

from streams.app import app, settings
from tables.mirror import RedisMirror
from tables.state import VELOCITY_TTL_S, velocity_table

MIRROR_PENDING = Gauge("redditstream_redis_mirror_pending", "Velocity entries not yet mirrored to Redis")
MIRROR_FLUSHED = Counter("redditstream_redis_mirror_written_total", "Velocity entries written to Redis")
MIRROR_ROUND_TRIPS = Counter(
    "redditstream_redis_mirror_round_trips_total",
    "Redis round trips of the mirror (one script call per batch of entries)",
)

mirror = RedisMirror(
    aioredis.Redis.from_url(
        settings.redis_url.get_secret_value(), socket_timeout=2, socket_connect_timeout=2, health_check_interval=10
    ),
    VELOCITY_TTL_S,
    on_pending=MIRROR_PENDING.set,
    on_flush=lambda n: _flushed(n),
)


def _flushed(written: int) -> None:
    """One round trip of the mirror wrote `written` entries."""
    MIRROR_FLUSHED.inc(written)
    MIRROR_ROUND_TRIPS.inc()


@app.task
async def run_mirror() -> None:
    await mirror.run(lambda: [(k.decode(), v) for k, v in velocity_table.items()], stopped=lambda: app.should_stop)
