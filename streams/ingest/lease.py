"""One ingest per app id: a Redis lease with a TTL, renewed; and the Redis that ingest's state needs.

`{APP_ID}:ingest:lease` holds the holder's name (host, pid, a random suffix) for
`INGEST_LEASE_SECONDS`. The holder renews it every third of that (only while it still holds it:
compare-and-expire in one script). A second ingest finds it taken, logs who holds it and waits
as a standby, trying again as soon as the lease's remaining time runs out; so after the holder
dies (kill -9) the standby takes over within the TTL. A holder that cannot renew (another one
holds the lease, or Redis did not answer for a whole TTL, so the lease may have lapsed) stops
polling and exits: two ingests never poll together for longer than one renewal interval.

Ingest's seen and tracked keys (streams.ingest.known) must survive memory pressure: Redis evicts
across all its databases under an `allkeys-*` policy, so :func:`eviction_refusal` refuses such a
server; `noeviction`, or a `volatile-*` policy (those keys carry no TTL, so they are never
chosen), are accepted. The cache's Redis (REDIS_URL) may stay allkeys-lru when INGEST_REDIS_URL
points ingest at another server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis

log = logging.getLogger("streams.ingest")

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def eviction_refusal(client: aioredis.Redis, variable: str) -> str | None:
    """One line when the server may evict keys that have no TTL (an `allkeys-*` policy), else None."""
    info = await client.info("memory")
    policy = str(info.get("maxmemory_policy", "noeviction"))
    if policy.startswith("allkeys"):
        return (
            f"redditstream ingest: the Redis of {variable} has maxmemory-policy {policy}, which may evict ingest's "
            "seen and tracked keys (posts announced again); point INGEST_REDIS_URL at a Redis with noeviction or "
            "a volatile-* policy"
        )
    return None


class Lease:
    def __init__(
        self,
        client: aioredis.Redis,
        key: str,
        ttl: float,
        holder: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = client
        self.key = key
        self.ttl = ttl
        self.holder = holder or holder_name()
        self.clock = clock
        self.renewed_at = 0.0

    @property
    def ttl_ms(self) -> int:
        return max(int(self.ttl * 1000), 1)

    async def try_acquire(self) -> bool:
        if await self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms):
            self.renewed_at = self.clock()
            return True
        return False

    async def current(self) -> tuple[str | None, float]:
        """(who holds the lease, seconds it has left)."""
        async with self.redis.pipeline(transaction=False) as p:
            p.get(self.key)
            p.pttl(self.key)
            holder, pttl = await p.execute()
        name = holder.decode() if isinstance(holder, bytes) else holder
        return name, max(pttl, 0) / 1000.0

    async def wait_until_held(self, stop: asyncio.Event) -> bool:
        """Acquire the lease, waiting as a standby while another ingest holds it; False if `stop` is set first."""
        told = None
        while not stop.is_set():
            try:
                if await self.try_acquire():
                    log.info(
                        "ingest lease acquired: %s holds %s (ttl %.1fs)",
                        self.holder,
                        self.key,
                        self.ttl,
                        extra={"fields": {"event": "lease acquired", "holder": self.holder}},
                    )
                    return True
                holder, left = await self.current()
            except aioredis.RedisError as exc:
                holder, left = None, self.ttl / 3
                log.warning("ingest lease: Redis did not answer (%s); trying again", exc)
            if holder and holder != told:
                told = holder
                log.warning(
                    "ingest lease %s is held by %s: this ingest (%s) waits as a standby and takes over when it lapses",
                    self.key,
                    holder,
                    self.holder,
                    extra={"fields": {"event": "lease standby", "holder": holder, "me": self.holder}},
                )
            wait = min(max(left, 0.05), self.ttl / 3)
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except TimeoutError:
                pass
        return False

    async def renew(self) -> bool:
        ok = bool(await self.redis.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms))
        if ok:
            self.renewed_at = self.clock()
        return ok

    async def keep(self, stop: asyncio.Event) -> bool:
        """Renew every third of the TTL until `stop`; True when the lease was lost (and `stop` set)."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.ttl / 3)
                return False
            except TimeoutError:
                pass
            try:
                if await self.renew():
                    continue
                reason = "another ingest holds it"
            except aioredis.RedisError as exc:
                if self.clock() - self.renewed_at < self.ttl:
                    log.warning("ingest lease: renewal failed (%s); retrying", exc)
                    continue
                reason = f"Redis did not answer for a whole TTL ({exc})"
            log.error(
                "ingest lease lost (%s): this ingest stops polling",
                reason,
                extra={"fields": {"event": "lease lost", "holder": self.holder}},
            )
            stop.set()
            return True
        return False

    async def release(self) -> None:
        try:
            await self.redis.eval(_RELEASE, 1, self.key, self.holder)
        except aioredis.RedisError:
            log.warning("ingest lease: could not release it; it lapses in %.1fs", self.ttl)
