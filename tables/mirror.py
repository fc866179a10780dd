"""The Redis mirror of the velocity table: hash `vel:{post_id}` for readers outside Faust.

Writes are coalesced per post and flushed in batches: one round trip and one command per flush,
a server-side script that does the `HSET` and the `EXPIREAT` of every post in the batch
(`MIRROR_SCRIPT`: a pipeline of two commands per post costs the worker several times the CPU
to pack and parse).
The table is the source of truth: if Redis is down, processing goes on, the pending entries
stay here (gauge `redditstream_redis_mirror_pending`), and the flush retries with backoff.
If more than `max_pending` posts pile up, the pending set is dropped and, once Redis answers
again, the mirror is rebuilt from the table's local partitions (`resync`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from streams.retry import Backoff

log = logging.getLogger(__name__)
RETRY = Backoff(base=0.5, cap=10.0)  # while Redis is down


# KEYS: the hashes; ARGV: per key, its five fields in FIELDS order, then its EXPIREAT time
FIELDS = ("score", "comments", "ts", "score_velocity", "comment_velocity")
MIRROR_SCRIPT = """
local n = #KEYS
for i = 1, n do
  local a = (i - 1) * 6
  redis.call('HSET', KEYS[i], 'score', ARGV[a + 1], 'comments', ARGV[a + 2], 'ts', ARGV[a + 3],
             'score_velocity', ARGV[a + 4], 'comment_velocity', ARGV[a + 5])
  redis.call('EXPIREAT', KEYS[i], ARGV[a + 6])
end
return n
"""


def mirror_fields(state: Mapping[str, Any]) -> dict[str, str]:
    """The hash fields of one velocity state (score, comments, ts, velocities)."""
    return {
        "score": str(int(state["score"])),
        "comments": str(int(state["comments"])),
        "ts": repr(float(state["observed_at"])),
        "score_velocity": repr(float(state.get("score_velocity", 0.0))),
        "comment_velocity": repr(float(state.get("comment_velocity", 0.0))),
    }


class RedisMirror:
    def __init__(
        self,
        client: aioredis.Redis,
        ttl_seconds: float,
        *,
        batch_size: int = 1000,
        interval: float = 0.2,
        max_pending: int = 200_000,
        on_pending: Callable[[int], None] = lambda n: None,
        on_flush: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.client = client
        self.ttl = ttl_seconds
        self.batch_size = batch_size
        self.interval = interval
        self.max_pending = max_pending
        self.on_pending = on_pending
        self.on_flush = on_flush
        self.pending: dict[str, dict[str, Any]] = {}
        self.needs_resync = False
        self.healthy = True
        self.round_trips = 0
        self.run_id: str | None = None
        self.checked_at = 0.0
        self._script = client.register_script(MIRROR_SCRIPT)

    def put(self, post_id: str, state: Mapping[str, Any]) -> None:
        self.pending[post_id] = dict(state)
        if len(self.pending) > self.max_pending:
            log.warning(
                "redis mirror: %d entries pending, dropping them for a resync from the table", len(self.pending)
            )
            self.pending.clear()
            self.needs_resync = True
        self.on_pending(len(self.pending))

    async def _write(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        keys: list[str] = []
        args: list[str] = []
        for post_id, state in items:
            keys.append(f"vel:{post_id}")
            fields = mirror_fields(state)
            args.extend(fields[f] for f in FIELDS)
            args.append(str(int(float(state["observed_at"]) + self.ttl)))
        if keys:
            await self._script(keys=keys, args=args)  # EVALSHA, loading the script once if needed
            self.round_trips += 1
        return len(keys)

    async def flush_once(self) -> int:
        """Write up to one batch of pending entries; raises RedisError when Redis fails."""
        if not self.pending:
            return 0
        batch = []
        for post_id in list(self.pending)[: self.batch_size]:
            batch.append((post_id, self.pending[post_id]))
        written = await self._write(batch)
        for post_id, state in batch:
            if self.pending.get(post_id) is state:  # not overwritten meanwhile
                del self.pending[post_id]
        self.on_pending(len(self.pending))
        self.on_flush(written)
        return written

    async def resync(self, states: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        total, chunk = 0, []
        now = time.time()
        for post_id, state in states:
            if float(state["observed_at"]) + self.ttl <= now:
                continue
            chunk.append((post_id, state))
            if len(chunk) >= self.batch_size:
                total += await self._write(chunk)
                chunk = []
        total += await self._write(chunk)
        return total

    async def check_server(self, every: float = 10.0) -> None:
        """A Redis that restarted (new run_id) may have lost the mirror: rebuild it then."""
        now = time.monotonic()
        if now - self.checked_at < every:
            return
        run_id = (await self.client.info("server"))["run_id"]
        self.round_trips += 1
        self.checked_at = now
        if self.run_id is not None and run_id != self.run_id:
            log.warning("redis mirror: Redis restarted (run_id changed); rebuilding the mirror from the table")
            self.needs_resync = True
        self.run_id = run_id

    async def run(
        self,
        table_items: Callable[[], Iterable[tuple[str, Mapping[str, Any]]]],
        stopped: Callable[[], bool],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Flush loop: until `stopped()`, flush pending entries; back off while Redis fails."""
        attempt = 0
        while not stopped():
            try:
                await self.check_server(every=0.0 if not self.healthy else 10.0)
                if self.needs_resync:
                    n = await self.resync(table_items())
                    self.needs_resync = False
                    log.info("redis mirror: rebuilt %d entries from the table", n)
                wrote = await self.flush_once()
                if not self.healthy:
                    log.info("redis mirror: Redis is back, %d entries pending", len(self.pending))
                self.healthy, attempt = True, 0
                if wrote < self.batch_size:
                    await sleep(self.interval)
            except (TimeoutError, RedisError, OSError) as exc:
                if self.healthy:
                    log.warning(
                        "redis mirror: Redis unavailable (%s); %d entries pending, retrying", exc, len(self.pending)
                    )
                self.healthy = False
                await sleep(RETRY.delay(attempt))
                attempt += 1
