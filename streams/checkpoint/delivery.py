"""Sending records without stopping the stream for each broker ack, and acking what they came from later.

An agent with manual acks hands a record to `DurableSender.send` together with `on_durable`
(the acks of the events it came from) and moves on; `on_durable` runs once the broker has
acknowledged the record. A delivery that fails is re-sent with backoff until it succeeds and
its events stay unacknowledged meanwhile, so faust never commits past a record that is not
durable (docs/design.md §10). At most `max_pending` events wait on deliveries: beyond that `send`
waits, which stops the agent (backpressure) instead of piling records up in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from streams.retry import Backoff

log = logging.getLogger(__name__)


class DurableSender:
    def __init__(
        self,
        topic: Any,
        *,
        max_pending: int = 5000,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        what: str = "record",
    ) -> None:
        self.topic = topic
        self.backoff = backoff
        self.sleep = sleep
        self.what = what
        self._capacity = Capacity(max_pending)  # events whose records are not acknowledged yet
        self.failures = 0
        self._retries: set[asyncio.Task] = set()

    @property
    def pending(self) -> int:
        """Events whose records are not acknowledged yet."""
        return self._capacity.used

    async def send(
        self,
        value: bytes,
        *,
        key: bytes | None = None,
        partition: int | None = None,
        on_durable: Callable[[], Any],
        weight: int = 1,
        label: str = "",
    ) -> None:
        await self._capacity.take(weight)
        await self._send(_Delivery(value, key, partition, on_durable, weight, label))

    async def _send(self, d: _Delivery) -> None:
        while True:
            try:
                fut = await self.topic.send(
                    key=d.key, value=d.value, partition=d.partition, key_serializer="raw", value_serializer="raw"
                )
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any producer failure is retried
                await self._backoff(d, exc)
        fut.add_done_callback(partial(self._delivered, d))

    def _delivered(self, d: _Delivery, fut: asyncio.Future) -> None:
        exc = fut.exception() if not fut.cancelled() else asyncio.CancelledError()
        if exc is None:
            self._capacity.release(d.weight)
            d.on_durable()
            return

        async def retry() -> None:
            await self._backoff(d, exc)
            await self._send(d)

        task = asyncio.ensure_future(retry())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _backoff(self, d: _Delivery, exc: BaseException) -> None:
        """Wait before the delivery's next attempt."""
        self.failures += 1
        delay = self.backoff.delay(d.attempt)
        log.warning(
            "%s %s not published (%s: %s); retrying in %.1fs", self.what, d.label, type(exc).__name__, exc, delay
        )
        await self.sleep(delay)
        d.attempt += 1


@dataclass(slots=True)
class _Delivery:
    """One record on its way to the broker, and what to do once it is durable."""

    value: bytes
    key: bytes | None
    partition: int | None
    on_durable: Callable[[], Any]
    weight: int  # events it acks: the capacity it holds until then
    label: str  # for the log
    attempt: int = 0  # failed attempts so far


class Capacity:
    """At most `limit` units in use: `take` waits while the limit is reached, `release` frees them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._room = asyncio.Event()
        self._room.set()

    async def take(self, n: int) -> None:
        while self.used >= self.limit:
            self._room.clear()
            await self._room.wait()
        self.used += n

    def release(self, n: int) -> None:
        self.used -= n
        if self.used < self.limit:
            self._room.set()


class Countdown:
    """Calls `then` once, when `n` parts are done; each call completes `parts` of them (default 1)."""

    def __init__(self, n: int, then: Callable[[], Any]) -> None:
        self.left = n
        self.then = then
        if n <= 0:
            then()

    def __call__(self, parts: int = 1) -> None:
        if self.left <= 0:
            return
        self.left -= parts
        if self.left <= 0:
            self.then()
