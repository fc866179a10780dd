"""The open batch of each source partition: its observations, its table changes, its acks.

One message per observation costs the producer a record and the sink a full trip through
faust's consumer and stream for every event; one changelog record per table write through
faust's `send_soon` costs more still. Instead each source message's observations and table
changes join the open batch of its partition. A batch closes once it holds `max_records`
observations or `max_bytes`, or is `max_delay` seconds old (a task calls `flush_due`), and
`commit` (streams.checkpoint.commit) makes it durable and acknowledges it. At most
`max_in_flight` events wait in commits; beyond that closing a batch waits (backpressure).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.checkpoint.changelog import ChangelogSender, ChangelogTable
from streams.checkpoint.commit import commit
from streams.checkpoint.delivery import Capacity, DurableSender

log = logging.getLogger(__name__)
Change = tuple[ChangelogTable, bytes, bytes | None]  # table, key, value bytes (None: deleted)


@dataclass
class Batch:
    started: float
    payloads: list[bytes] = field(default_factory=list)
    acks: list[Callable[[], Any]] = field(default_factory=list)
    changes: dict[ChangelogTable, dict[bytes, bytes | None]] = field(default_factory=dict)
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
        self._commits: set[asyncio.Task] = set()

    def __len__(self) -> int:
        return sum(len(b.payloads) for b in self.open.values())

    @property
    def in_flight(self) -> int:
        """Events of flushed batches not yet acknowledged."""
        return self._capacity.used

    async def add(
        self, partition: int, payload: bytes, on_durable: Callable[[], Any], changes: Iterable[Change] = ()
    ) -> None:
        """One observation and its table changes: `add_many` of one."""
        grouped: dict[ChangelogTable, dict[bytes, bytes | None]] = {}
        for table, key, value in changes:
            grouped.setdefault(table, {})[key] = value
        await self.add_many(partition, [payload], on_durable, grouped)

    async def add_many(
        self,
        partition: int,
        payloads: list[bytes],
        on_durable: Callable[[], Any],
        changes: Mapping[ChangelogTable, Mapping[bytes, bytes | None]],
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

    def lock(self, partition: int) -> asyncio.Lock:
        """The lock that keeps a partition's commits producing in the order their batches closed."""
        lock = self._locks.get(partition)
        if lock is None:
            lock = self._locks[partition] = asyncio.Lock()
        return lock

    async def take(self, events: int) -> None:
        """Wait for room, then count `events` of a closed batch in flight."""
        await self._capacity.take(events)

    def release(self, events: int) -> None:
        """`events` of a committed batch are acknowledged: they leave the in-flight count."""
        self._capacity.release(events)

    async def _flush(self, partition: int) -> None:
        batch = self.open.pop(partition, None)
        if batch is None or not batch.payloads:
            return
        # tasks start in the order they are created, and the partition's lock is FIFO: the
        # commits of one partition take room and produce in the order their batches closed
        admitted = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(commit(self, partition, batch, admitted))
        self._commits.add(task)
        task.add_done_callback(self._committed)
        await admitted  # backpressure: the closing agent waits for room

    def _committed(self, task: asyncio.Task) -> None:
        self._commits.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("commit failed", exc_info=task.exception())
