"""What ingest remembers across restarts, in Redis (keys under `{APP_ID}:ingest:`).

- `seen` (sorted set, id → when it was delivered): the posts already emitted as new. An id
  is added only once its record is acknowledged by Kafka, so a stop between fetch and
  delivery fetches the post again instead of losing it; members older than
  `INGEST_SEEN_TTL_HOURS` are pruned.
- `tracked` (hash, id → JSON of created_utc, last score, last observed_at): the posts that
  are re-polled for refreshes; a post leaves it once past the last refresh tier.

Neither key has a TTL: under a `volatile-*` eviction policy Redis never chooses them, and
ingest refuses a server whose `allkeys-*` policy could (streams.ingest.lease).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis


@dataclass
class Tracked:
    created_utc: float
    score: int
    observed_at: float
    prev_score: int | None = None
    prev_at: float | None = None
    next_due: float = 0.0

    def to_json(self) -> str:
        return json.dumps(
            {
                "c": self.created_utc,
                "s": self.score,
                "at": self.observed_at,
                "ps": self.prev_score,
                "pat": self.prev_at,
                "due": self.next_due,
            }
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Tracked:
        d = json.loads(raw)
        return cls(d["c"], d["s"], d["at"], d.get("ps"), d.get("pat"), d.get("due", 0.0))


class KnownStore:
    def __init__(self, client: aioredis.Redis, prefix: str, ttl_seconds: float) -> None:
        self.redis = client
        self.seen_key = f"{prefix}:seen"
        self.tracked_key = f"{prefix}:tracked"
        self.ttl = ttl_seconds
        self.local: set[str] = set()  # emitted or in flight in this process

    async def unseen(self, ids: list[str]) -> list[str]:
        """The ids never emitted as new (nor on their way), in the given order."""
        fresh = [i for i in ids if i not in self.local]
        if not fresh:
            return []
        scores = await self.redis.zmscore(self.seen_key, fresh)
        return [i for i, s in zip(fresh, scores, strict=True) if s is None]

    def claim(self, post_id: str) -> None:
        self.local.add(post_id)

    async def mark_seen(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            now = time.time()
            async with self.redis.pipeline(transaction=False) as p:
                p.zadd(self.seen_key, {i: now for i in ids})
                p.persist(self.seen_key)  # a key an older version gave a TTL: keep it from eviction
                await p.execute()

    async def prune(self) -> int:
        cutoff = time.time() - self.ttl
        old = await self.redis.zrangebyscore(self.seen_key, "-inf", cutoff)
        if old:
            await self.redis.zrem(self.seen_key, *old)
            self.local.difference_update(x.decode() if isinstance(x, bytes) else x for x in old)
        return len(old)

    async def seen_count(self) -> int:
        return await self.redis.zcard(self.seen_key)

    async def save_tracked(self, items: dict[str, Tracked]) -> None:
        if items:
            async with self.redis.pipeline(transaction=False) as p:
                p.hset(self.tracked_key, mapping={k: v.to_json() for k, v in items.items()})
                p.persist(self.tracked_key)
                await p.execute()

    async def untrack(self, ids: list[str]) -> None:
        if ids:
            await self.redis.hdel(self.tracked_key, *ids)

    async def load_tracked(self) -> dict[str, Tracked]:
        raw = await self.redis.hgetall(self.tracked_key)
        return {(k.decode() if isinstance(k, bytes) else k): Tracked.from_json(v) for k, v in raw.items()}
