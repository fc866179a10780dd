"""What the enrich agents send, batched per source partition: observations and table changelogs.

One message per observation costs the producer a record and the sink a full trip through
faust's consumer and stream for every event; one changelog record per table write through
faust's `send_soon` costs more still. Instead each event's observation JSON and its table
changes are added to the open batch of its source partition. A batch goes out once it holds
`max_records` observations or `max_bytes`, or is `max_delay` seconds old (a task calls
`flush_due`):
- its observations as one message, a JSON array of `Observation`s, to the same partition
  number of the observations topic (so a post's observations stay in order);
- its table changes (the last value of each key, already in the partition's RocksDB database,
  tables.direct) to the same partition of each table's changelog, in bulk (tables.changelog).
The batch's events are acknowledged once all of that is on the broker (streams.delivery), so
faust never commits past an observation or a state change that could still be lost. At most
`max_in_flight` events wait on deliveries; beyond that a flush waits (backpressure). The
batches of one partition go out in order, one flush at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.delivery import Capacity, Countdown, DurableSender
from tables.changelog import ChangelogSender
from tables.direct import DirectTable

Change = tuple[DirectTable, bytes, bytes | None]  # table, key, value bytes (None: deleted)


@dataclass
class Batch:
    started: float
    payloads: list[bytes] = field(default_factory=list)
    acks: list[Callable[[], Any]] = field(default_factory=list)
    changes: dict[DirectTable, dict[bytes, bytes | None]] = field(default_factory=dict)
    size: int = 2  # the brackets
    events: int = 0  # observations: the capacity the batch holds until it is acknowledged

    def value(self) -> bytes:
        return b"[" + b",".join(self.payloads) + b"]"


class Outbox:
    def __init__(
        self,
        sender: DurableSender,
        changelog: ChangelogSender,
        *,
        max_records: int = 500,
        max_bytes: int = 512 * 1024,
        max_delay: float = 0.05,
        max_in_flight: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sender = sender
        self.changelog = changelog
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_delay = max_delay
        self.clock = clock
        self.open: dict[int, Batch] = {}
        self._capacity = Capacity(max_in_flight)  # events of flushed batches not yet acknowledged
        self._locks: dict[int, asyncio.Lock] = {}

    def __len__(self) -> int:
        return sum(len(b.payloads) for b in self.open.values())

    @property
    def in_flight(self) -> int:
        """Events of flushed batches not yet acknowledged."""
        return self._capacity.used

    async def add(
        self, partition: int, payload: bytes, on_durable: Callable[[], Any], changes: Iterable[Change] = ()
    ) -> None:
        batch = self.open.get(partition)
        if batch is not None and batch.size + len(payload) + 1 > self.max_bytes:
            await self._flush(partition)
            batch = None
        if batch is None:
            batch = self.open[partition] = Batch(self.clock())
        batch.payloads.append(payload)
        batch.acks.append(on_durable)
        batch.events += 1
        batch.size += len(payload) + 1
        for table, key, value in changes:
            batch.changes.setdefault(table, {})[key] = value
        if len(batch.payloads) >= self.max_records:
            await self._flush(partition)

    async def add_many(
        self,
        partition: int,
        payloads: list[bytes],
        on_durable: Callable[[], Any],
        changes: Mapping[DirectTable, Mapping[bytes, bytes | None]],
    ) -> None:
        """Add the observations of one source message (a batch of events) and its table changes;
        `on_durable` runs once, when all of them are on the broker."""
        batch = self.open.get(partition)
        size = sum(map(len, payloads)) + len(payloads)
        if batch is not None and batch.size + size > self.max_bytes:
            await self._flush(partition)
            batch = None
        if batch is None:
            batch = self.open[partition] = Batch(self.clock())
        # one message's observations stay in one batch (its ack waits for one delivery); a
        # batch may so exceed max_records / max_bytes by one message's worth
        batch.payloads.extend(payloads)
        batch.acks.append(on_durable)
        batch.events += len(payloads)
        batch.size += size
        for table, values in changes.items():
            current = batch.changes.get(table)
            if current is None:
                batch.changes[table] = dict(values)
            else:
                current.update(values)
        if len(batch.payloads) >= self.max_records or batch.size >= self.max_bytes:
            await self._flush(partition)

    async def flush_due(self) -> None:
        now = self.clock()
        for partition in [p for p, b in self.open.items() if now - b.started >= self.max_delay]:
            await self._flush(partition)

    async def flush_all(self) -> None:
        for partition in list(self.open):
            await self._flush(partition)

    async def _flush(self, partition: int) -> None:
        batch = self.open.pop(partition, None)
        if batch is None or not batch.payloads:
            return
        # A partition's batches go out strictly in the order they were closed: two of them
        # reordered would leave the older value of a key last in the changelog.
        lock = self._locks.get(partition)
        if lock is None:
            lock = self._locks[partition] = asyncio.Lock()
        async with lock:
            await self._send(partition, batch)

    async def _send(self, partition: int, batch: Batch) -> None:
        n = batch.events
        await self._capacity.take(n)

        def durable() -> None:
            self._capacity.release(n)
            for ack in batch.acks:
                ack()

        done = Countdown(1 + len(batch.changes), durable)
        for table, changes in batch.changes.items():
            await self.changelog.send(table, partition, changes, done)
        await self.sender.send(
            batch.value(),
            partition=partition,
            on_durable=done,
            weight=n,
            label=f"batch of {n} for partition {partition}",
        )
