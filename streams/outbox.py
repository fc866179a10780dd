"""The enrich agents' observations, batched per partition: one Kafka message per batch.

One message per observation costs the producer a record and the sink a full trip through
faust's consumer and stream for every event. Instead each observation's JSON is appended to the
open batch of its source partition, and a batch goes out as one message — a JSON array of
`Observation`s, to the same partition number of the observations topic, so a post's
observations stay in order — once it holds `max_records` observations or `max_bytes`, or is
`max_delay` seconds old (a timer calls `flush_due`). The events stay unacknowledged until their
batch is on the broker (streams.delivery), so faust never commits past an observation that
could still be lost.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from streams.delivery import DurableSender


@dataclass
class Batch:
    started: float
    payloads: list[bytes] = field(default_factory=list)
    acks: list[Callable[[], Any]] = field(default_factory=list)
    size: int = 2  # the brackets

    def value(self) -> bytes:
        return b"[" + b",".join(self.payloads) + b"]"

    def ack_all(self) -> None:
        for ack in self.acks:
            ack()


class Outbox:
    def __init__(self, sender: DurableSender, *, max_records: int = 500, max_bytes: int = 512 * 1024,
                 max_delay: float = 0.05, clock: Callable[[], float] = time.monotonic) -> None:
        self.sender = sender
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_delay = max_delay
        self.clock = clock
        self.open: dict[int, Batch] = {}

    def __len__(self) -> int:
        return sum(len(b.payloads) for b in self.open.values())

    async def add(self, partition: int, payload: bytes, on_durable: Callable[[], Any]) -> None:
        batch = self.open.get(partition)
        if batch is not None and batch.size + len(payload) + 1 > self.max_bytes:
            await self._flush(partition)
            batch = None
        if batch is None:
            batch = self.open[partition] = Batch(self.clock())
        batch.payloads.append(payload)
        batch.acks.append(on_durable)
        batch.size += len(payload) + 1
        if len(batch.payloads) >= self.max_records:
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
        await self.sender.send(batch.value(), partition=partition, on_durable=batch.ack_all,
                               weight=len(batch.acks), label=f"batch of {len(batch.acks)} for partition {partition}")
