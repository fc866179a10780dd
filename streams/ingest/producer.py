"""Ingest's (and the backfill's) aiokafka producer behind a bounded buffer, sending batches.

`put` waits while the buffer is full, which pauses the pollers (backpressure). The sender
takes what the buffer holds (after waiting up to `linger` for a burst to fill it) and sends
**one message per partition batch** (docs/design.md §3): a JSON array of the records that
hash to that partition with their own key (the post id, Kafka's default partitioner), in
the order they were put, at most `max_records` of them and `max_bytes` of JSON. The message
goes to that partition explicitly, keyed by its first record's key. So a post's snapshots
stay in one partition and in order, and the consumers pay faust's per-message cost once per
batch instead of once per post.

A batch leaves the buffer when aiokafka accepts it; if its delivery fails (broker down,
batch expired) its records go back to the buffer's front and are sent again after a backoff:
nothing fetched is dropped. Delivery is acks=all and idempotent (producer_config).
`drain` waits until every record is acknowledged (used on SIGTERM).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from streams.ingest.metrics import BUFFERED
from streams.kafka_client import client_options
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
    """aiokafka's producer options: acks=all, idempotent, the batching settings, and how it
    connects (streams.kafka_client: TLS, SASL)."""
    return {
        **client_options(settings),
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
        *,
        max_records: int = 500,
        max_bytes: int = 64 * 1024,
        linger: float = 0.05,
    ) -> None:
        self.config = config
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.linger = linger
        self._partitions: dict[str, list[int]] = {}
        self.messages = 0  # batch messages delivered
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

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        bootstrap: str,
        declare: Callable[[], Awaitable[object]] | None = None,
        client: str = "ingest",
    ) -> BufferedProducer:
        """Ingest's or the backfill's producer: batches of at most `PRODUCER_BATCH_BYTES`, filled for
        up to `PRODUCER_LINGER_MS` (aiokafka itself then sends them at once: linger 0)."""
        config = {**producer_config(settings, bootstrap), "client_id": f"{settings.app_id}-{client}", "linger_ms": 0}
        return cls(
            config,
            settings.ingest_buffer_records,
            settings.ingest_retry_base_seconds,
            settings.ingest_retry_max_seconds,
            declare=declare,
            max_bytes=settings.producer_batch_bytes - 128,  # the record batch's own header
            linger=settings.producer_linger_ms / 1000.0,
        )

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
            if len(self._queue) < self.max_records and self.linger > 0:
                await asyncio.sleep(self.linger)  # let a burst of polls fill the batches
            records = list(self._queue)
            self._queue.clear()
            self._inflight += len(records)
            try:
                batches = batches_of(records, await self._partitions_of(records), self.max_records, self.max_bytes)
            except KafkaError as exc:
                self._requeue(records, exc)
                await asyncio.sleep(self.backoff.delay(records[0].attempts))
                continue
            for i, (topic, partition, batch) in enumerate(batches):
                try:
                    fut = await self._producer.send(
                        topic, value=message_value(batch), key=batch[0].key.encode(), partition=partition
                    )
                except KafkaError as exc:
                    self._requeue([r for _, _, b in batches[i:] for r in b], exc)
                    await asyncio.sleep(self.backoff.delay(batch[0].attempts))
                    break
                fut.add_done_callback(lambda f, batch=batch: self._done(batch, f))

    async def _partitions_of(self, records: list[Record]) -> dict[str, list[int]]:
        """topic -> its partitions, sorted (asked of the broker's metadata once per topic)."""
        assert self._producer is not None
        for topic in {r.topic for r in records} - self._partitions.keys():
            self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
        return self._partitions

    def _requeue(self, records: list[Record], exc: BaseException) -> None:
        self._inflight -= len(records)
        for rec in records:
            rec.attempts += 1
        self._queue.extendleft(reversed(records))
        self._ready.set()
        attempts = records[0].attempts
        if attempts in (1, 5) or attempts % 20 == 0:
            log.warning(
                "delivery of a batch of %d to %s failed (%r), attempt %d; kept in the buffer",
                len(records),
                records[0].topic,
                exc,
                attempts,
            )

    def _done(self, batch: list[Record], fut: asyncio.Future) -> None:
        if fut.cancelled() or fut.exception() is not None:
            self._requeue(batch, fut.exception() or asyncio.CancelledError())
            return
        self._inflight -= len(batch)
        self.delivered += len(batch)
        self.messages += 1
        BUFFERED.set(self.pending)
        for rec in batch:
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


_partitioner = DefaultPartitioner()


def batches_of(
    records: list[Record], partitions: dict[str, list[int]], max_records: int, max_bytes: int
) -> list[tuple[str, int, list[Record]]]:
    """`records` as (topic, partition, records) batches: each record in the partition its key
    hashes to (Kafka's default partitioner, murmur2), in order, at most `max_records` records and
    `max_bytes` of JSON array a batch (a record larger than that alone)."""
    open_: dict[tuple[str, int], tuple[list[Record], list[int]]] = {}
    out: list[tuple[str, int, list[Record]]] = []
    for rec in records:
        all_partitions = partitions[rec.topic]
        tp = (rec.topic, _partitioner(rec.key.encode(), all_partitions, all_partitions))
        current = open_.get(tp)
        size = len(rec.value) + 1
        if current is not None and (len(current[0]) >= max_records or current[1][0] + size > max_bytes):
            current = None
        if current is None:
            current = open_[tp] = ([], [1])
            out.append((tp[0], tp[1], current[0]))
        current[0].append(rec)
        current[1][0] += size
    return out


def message_value(batch: list[Record]) -> bytes:
    """The message of a batch: a JSON array of its records' JSON values."""
    return b"[" + b",".join(r.value for r in batch) + b"]"
