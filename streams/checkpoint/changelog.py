"""A table partition's changelog records produced in bulk: one aiokafka record batch per flush.

`send` takes what a batch of events changed in one partition of a `ChangelogTable` (key → the
value's bytes, the last write of each key) and produces it with aiokafka's batch API
(`create_batch` / `send_batch`): a few microseconds a record instead of faust's per-record
`send_soon`. `on_durable` runs once every record is on the broker; the local store's
persisted changelog offset moves then.

A batch the broker does not take is sent again with backoff until it succeeds, and its events
stay unacknowledged meanwhile. The records sent again are the keys' *current* values, read
from the store at that moment: a later batch of the same partition may already be on the
broker, and re-sending the old values after it would leave a stale value last in the
compacted changelog. The current value is always the right last word.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from streams.checkpoint.delivery import Countdown
from streams.retry import Backoff

log = logging.getLogger(__name__)


class ChangelogTable(Protocol):
    """What the sender needs of a table (tables.direct.ChangelogTable): its changelog topic, the
    current value of a key in a partition's store, and where to record what the store holds."""

    @property
    def name(self) -> str: ...

    @property
    def topic(self) -> str: ...

    def raw(self, partition: int, key: bytes) -> bytes | None: ...

    def persisted(self, partition: int, offset: int) -> None: ...


class ChangelogSender:
    def __init__(
        self,
        producer: Callable[[], Any],
        *,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.producer = producer  # () -> aiokafka.AIOKafkaProducer (faust's, once started)
        self.backoff = backoff
        self.sleep = sleep
        self.failures = 0
        self._retries: set[asyncio.Task] = set()

    async def send(
        self,
        table: ChangelogTable,
        partition: int,
        changes: Mapping[bytes, bytes | None],
        on_durable: Callable[[], Any],
    ) -> None:
        await self._send(table, partition, changes, on_durable, 0)

    async def _send(
        self,
        table: ChangelogTable,
        partition: int,
        changes: Mapping[bytes, bytes | None],
        on_durable: Callable[[], Any],
        attempt: int,
    ) -> None:
        batches: list[tuple[Any, list[bytes]]] = []
        try:
            producer = self.producer()
            batches = _build(producer, changes)
        except Exception as exc:  # noqa: BLE001 - e.g. the producer not started yet: retried
            self._retry(table, partition, list(changes), exc, attempt, on_durable)
            return
        part_done = Countdown(len(batches), on_durable)

        def delivered(fut: asyncio.Future, keys: list[bytes]) -> None:
            exc = fut.exception() if not fut.cancelled() else asyncio.CancelledError()
            if exc is not None:
                self._retry(table, partition, keys, exc, attempt, part_done)
                return
            table.persisted(partition, fut.result().offset + len(keys) - 1)
            part_done()

        for i, (batch, keys) in enumerate(batches):
            try:
                fut = await producer.send_batch(batch, table.topic, partition=partition)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - this batch and the ones after it are retried
                rest = batches[i:]
                self._retry(
                    table,
                    partition,
                    [k for _, ks in rest for k in ks],
                    exc,
                    attempt,
                    functools.partial(part_done, len(rest)),
                )
                return
            fut.add_done_callback(lambda f, k=keys: delivered(f, k))

    def _retry(
        self,
        table: ChangelogTable,
        partition: int,
        keys: list[bytes],
        exc: BaseException,
        attempt: int,
        on_durable: Callable[[], Any],
    ) -> None:
        """Send `keys` again, with their current values, after a pause; `on_durable` once on the broker."""
        self.failures += 1
        delay = self.backoff.delay(attempt)
        log.warning(
            "changelog of %s[%d]: %d records not published (%s: %s); retrying in %.1fs",
            table.name,
            partition,
            len(keys),
            type(exc).__name__,
            exc,
            delay,
        )

        async def again() -> None:
            await self.sleep(delay)
            current = {key: table.raw(partition, key) for key in keys}
            await self._send(table, partition, current, on_durable, attempt + 1)

        task = asyncio.ensure_future(again())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)


def _build(producer: Any, changes: Mapping[bytes, bytes | None]) -> list[tuple[Any, list[bytes]]]:
    """aiokafka record batches holding `changes`, with the keys of each."""
    batches: list[tuple[Any, list[bytes]]] = []
    batch, keys = producer.create_batch(), list[bytes]()
    for key, value in changes.items():
        if batch.append(key=key, value=value, timestamp=None) is None:  # full: start another
            batches.append((batch, keys))
            batch, keys = producer.create_batch(), []
            if batch.append(key=key, value=value, timestamp=None) is None:
                raise ValueError(f"a changelog record of {len(value or b'')} bytes does not fit a batch")
        keys.append(key)
    if keys:
        batches.append((batch, keys))
    return batches
