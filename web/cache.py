"""A Redis-cached value computed at most once at a time, in one worker and across workers.

`/api/stats/` is one SQL statement over the whole `posts` table: cheap once, not fifty times at
once. A cold cache is filled by one computation only:
- in a worker, concurrent requests share one in-flight computation (`SingleFlight`);
- across workers, the one that takes the Redis lock (`SET lock NX PX`) computes and stores the
  value; the others wait for the value to appear (or for the lock to go, if its holder died,
  and then try to take it themselves).
Redis down: the value is computed from the database (still once per worker at a time) and
answered with `cached: false`; a Redis error never fails the request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import Counter
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
CACHE = Counter(
    "redditstream_web_cache_total",
    "Cached API values served, by cache and outcome (hit | computed | waited | redis_down)",
    ["cache", "outcome"],
)
# compare-and-delete: release the lock only if it is still ours
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class SingleFlight:
    """Concurrent callers of one key share one running computation."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future] = {}

    async def run(self, key: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        fut = self._running.get(key)
        if fut is None:
            fut = asyncio.ensure_future(fn())
            self._running[key] = fut
            fut.add_done_callback(lambda _f: self._running.pop(key, None))
        # shield: one caller going away (client disconnect) does not cancel the others' result
        return await asyncio.shield(fut)


class CachedValue:
    def __init__(
        self,
        redis: Any,
        key: str,
        ttl: int,
        compute: Callable[[], Awaitable[dict]],
        *,
        lock_seconds: float = 15.0,
        poll_seconds: float = 0.02,
    ) -> None:
        self.redis, self.key, self.ttl, self.compute = redis, key, ttl, compute
        self.lock_key = key + ":lock"
        self.lock_seconds, self.poll_seconds = lock_seconds, poll_seconds
        self.flight = SingleFlight()
        self.name = key.rsplit(":", 1)[-1]

    async def get(self) -> dict:
        """The value with `cached`: True when it came from Redis, False when computed now."""
        return await self.flight.run(self.key, self._get)

    async def _computed(self, outcome: str) -> dict:
        CACHE.labels(self.name, outcome).inc()
        return {**await self.compute(), "cached": False}

    async def _get(self) -> dict:
        if self.ttl <= 0:
            return await self._computed("computed")
        try:
            deadline = time.monotonic() + self.lock_seconds
            while True:
                raw = await self.redis.get(self.key)
                if raw is not None:
                    CACHE.labels(self.name, "hit").inc()
                    return {**json.loads(raw), "cached": True}
                token = uuid.uuid4().hex
                if await self.redis.set(self.lock_key, token, nx=True, px=int(self.lock_seconds * 1000)):
                    return await self._fill(token)
                # another worker computes it: wait for its value, or for its lock to go away
                while time.monotonic() < deadline:
                    await asyncio.sleep(self.poll_seconds)
                    raw = await self.redis.get(self.key)
                    if raw is not None:
                        CACHE.labels(self.name, "waited").inc()
                        return {**json.loads(raw), "cached": True}
                    if not await self.redis.exists(self.lock_key):
                        break  # its holder failed or died: try to take the lock ourselves
                else:
                    log.warning("cache %s: still locked after %.0fs; computing here", self.key, self.lock_seconds)
                    return await self._computed("computed")
        except RedisError as exc:
            log.warning("cache %s: Redis unavailable (%s); computing from the database", self.key, exc)
            return await self._computed("redis_down")

    async def _fill(self, token: str) -> dict:
        try:
            value = await self.compute()
            CACHE.labels(self.name, "computed").inc()
            try:
                await self.redis.set(self.key, json.dumps(value), ex=self.ttl)
            except RedisError as exc:
                log.warning("cache %s: cannot store the value (%s)", self.key, exc)
            return {**value, "cached": False}
        finally:
            try:
                await self.redis.eval(_RELEASE, 1, self.lock_key, token)
            except RedisError:
                pass  # the lock expires by itself
