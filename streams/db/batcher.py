"""The sink's buffer: flush at `batch_size` items or when the oldest is `flush_seconds` old.

At-least-once: the `ack` callback (faust's `stream.ack(event)`) is called for a batch's events
only after `write` (the batch's transaction) returned. A failed write is retried with backoff
forever while the buffer stays full: the agent stops pulling events (backpressure), faust's
stream buffer fills and the consumer pauses those partitions; nothing is dropped, and writing
resumes by itself once the database answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from streams.retry import Backoff

log = logging.getLogger(__name__)
E = TypeVar("E")
P = TypeVar("P")


class Batcher(Generic[E, P]):
    def __init__(
        self,
        write: Callable[[Sequence[P]], Awaitable[Any]],
        ack: Callable[[E], Awaitable[Any]],
        *,
        batch_size: int,
        flush_seconds: float,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_retry: Callable[[BaseException, float], None] | None = None,
        on_flushed: Callable[[Sequence[P], Any, float], None] | None = None,
    ) -> None:
        self.write = write
        self.ack = ack
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.on_retry = on_retry
        self.on_flushed = on_flushed
        self.events: list[E] = []
        self.payloads: list[P] = []
        self.arrivals: list[float] = []
        self.weights: list[int] = []
        self.weight = 0  # rows buffered (an event may carry several)
        self.lock = asyncio.Lock()
        self.failing = False

    def __len__(self) -> int:
        return len(self.events)

    def due(self, now: float | None = None) -> bool:
        if not self.events:
            return False
        if self.weight >= self.batch_size:
            return True
        now = self.clock() if now is None else now
        return now - self.arrivals[0] >= self.flush_seconds

    async def add(self, event: E, payload: P, weight: int = 1) -> None:
        """Buffer one event (worth `weight` rows); when the buffer is full, flush (blocks while the
        database fails)."""
        self.arrivals.append(self.clock())
        self.events.append(event)
        self.payloads.append(payload)
        self.weights.append(weight)
        self.weight += weight
        if self.weight >= self.batch_size:
            await self.flush()

    async def flush(self) -> int:
        """Write and ack the oldest buffered events, up to `batch_size` rows (at least one event);
        retry until it succeeds."""
        async with self.lock:
            n, rows = 0, 0
            while n < len(self.events) and (n == 0 or rows + self.weights[n] <= self.batch_size):
                rows += self.weights[n]
                n += 1
            if not n:
                return 0
            events, payloads = self.events[:n], self.payloads[:n]
            t0 = self.clock()
            delays = self.backoff.delays()
            while True:
                try:
                    result = await self.write(payloads)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - everything but cancellation is retried
                    delay = next(delays)
                    self.failing = True
                    if self.on_retry:
                        self.on_retry(exc, delay)
                    await asyncio.sleep(delay)
            self.failing = False
            for ev in events:
                await self.ack(ev)
            del self.events[:n]
            del self.payloads[:n]
            del self.arrivals[:n]
            del self.weights[:n]
            self.weight -= rows
            if self.on_flushed:
                self.on_flushed(payloads, result, self.clock() - t0)
            return n

    async def run_ticker(self, interval: float | None = None) -> None:
        """Flush whatever is due, forever (run as a task next to the agent's loop)."""
        interval = interval or max(0.01, min(0.1, self.flush_seconds / 10))
        while True:
            await asyncio.sleep(interval)
            while self.due():
                await self.flush()
