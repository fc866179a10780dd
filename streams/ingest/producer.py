"""Ingest's aiokafka producer behind a bounded buffer.

`put` waits while the buffer is full, which pauses the pollers (backpressure). A record
leaves the buffer when aiokafka accepts it; if its delivery fails (broker down, batch
expired) it goes back to the buffer's front and is sent again after a backoff: nothing
fetched is dropped. `drain` waits until every record is acknowledged (used on SIGTERM).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from streams.ingest.metrics import BUFFERED
from streams.retry import Backoff
from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Record:
    topic: str
    key: str
    value: bytes
    on_delivered: Callable[[Record], None] | None = None
    attempts: int = 0


def producer_config(settings: Settings, bootstrap: str) -> dict:
    return {
        "bootstrap_servers": bootstrap,
        "client_id": f"{settings.app_id}-ingest",
        "acks": "all" if settings.producer_acks == "all" else int(settings.producer_acks),
        "enable_idempotence": settings.producer_idempotence,
        "linger_ms": settings.producer_linger_ms,
        "max_batch_size": settings.producer_batch_bytes,
        "compression_type": None if settings.producer_compression == "none" else settings.producer_compression,
        "request_timeout_ms": 30000,
        "retry_backoff_ms": 200,
    }


class BufferedProducer:
    def __init__(
        self,
        config: dict,
        capacity: int,
        retry_base: float = 0.5,
        retry_max: float = 30.0,
        declare: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.config = config
        self.declare = declare
        self.capacity = capacity
        self.backoff = Backoff(base=retry_base, cap=retry_max)
        self._queue: collections.deque[Record] = collections.deque()
        self._space = asyncio.Condition()
        self._ready = asyncio.Event()
        self._inflight = 0
        self._producer: AIOKafkaProducer | None = None
        self._sender: asyncio.Task | None = None
        self.enqueued = 0
        self.delivered = 0

    @property
    def pending(self) -> int:
        return len(self._queue) + self._inflight

    async def start(self) -> None:
        self._sender = asyncio.create_task(self._run(), name="ingest-producer")

    async def put(self, record: Record) -> None:
        async with self._space:
            await self._space.wait_for(lambda: len(self._queue) + self._inflight < self.capacity)
            self._queue.append(record)
            self.enqueued += 1
        BUFFERED.set(self.pending)
        self._ready.set()

    async def _connect(self) -> AIOKafkaProducer:
        attempt = 0
        while True:
            producer = AIOKafkaProducer(**self.config)
            try:
                await producer.start()
                if self.declare is not None:
                    await self.declare()
                if attempt:
                    log.info("producer connected after %d attempts", attempt + 1)
                return producer
            except (KafkaError, OSError) as exc:
                await producer.stop()
                delay = self.backoff.delay(attempt)
                log.warning("broker unreachable (%s); retrying in %.1fs, %d records buffered", exc, delay, self.pending)
                attempt += 1
                await asyncio.sleep(delay)

    async def _run(self) -> None:
        self._producer = await self._connect()
        while True:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            rec = self._queue.popleft()
            self._inflight += 1
            try:
                fut = await self._producer.send(rec.topic, value=rec.value, key=rec.key.encode())
            except KafkaError as exc:
                self._requeue(rec, exc)
                await asyncio.sleep(self.backoff.delay(rec.attempts))
                continue
            fut.add_done_callback(lambda f, rec=rec: self._done(rec, f))

    def _requeue(self, rec: Record, exc: BaseException) -> None:
        self._inflight -= 1
        rec.attempts += 1
        self._queue.appendleft(rec)
        self._ready.set()
        if rec.attempts in (1, 5) or rec.attempts % 20 == 0:
            log.warning(
                "delivery of %s/%s failed (%r), attempt %d; kept in the buffer", rec.topic, rec.key, exc, rec.attempts
            )

    def _done(self, rec: Record, fut: asyncio.Future) -> None:
        if fut.cancelled() or fut.exception() is not None:
            self._requeue(rec, fut.exception() or asyncio.CancelledError())
            return
        self._inflight -= 1
        self.delivered += 1
        BUFFERED.set(self.pending)
        if rec.on_delivered:
            rec.on_delivered(rec)
        asyncio.get_running_loop().create_task(self._notify_space())

    async def _notify_space(self) -> None:
        async with self._space:
            self._space.notify_all()

    async def drain(self, timeout: float) -> bool:
        """Wait until every record is acknowledged (True), or `timeout` passes (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.pending and loop.time() < deadline:
            if self._producer is not None:
                try:
                    await asyncio.wait_for(self._producer.flush(), max(deadline - loop.time(), 0.01))
                except (TimeoutError, KafkaError):
                    pass
            await asyncio.sleep(0.05)
        return self.pending == 0

    async def stop(self) -> None:
        if self._sender:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
        if self._producer is not None:
            await self._producer.stop()
