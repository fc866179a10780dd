"""The commit protocol, in one function (docs/design.md §10).

Like Quix Streams' `Checkpoint.commit()`: one place that says, in order, what makes the source
offsets of a batch safe to acknowledge. The enrich agents close a batch per source partition
(streams.checkpoint.outbox) and `commit` runs for it as a task of its own, so the stream goes
on while the broker acknowledges; at most `Outbox.max_in_flight` events wait in commits
(backpressure on the agents beyond that).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.checkpoint.outbox import Batch, Outbox


async def commit(outbox: Outbox, partition: int, batch: Batch, admitted: asyncio.Future) -> None:
    """Make `batch` (the closed batch of one source partition) durable, then acknowledge its
    source messages.

    Before it runs, the enrichment has written the batch's state changes to the partition's
    local RocksDB databases (one write batch per table, streams.processing.enrich), and the
    batch holds the same changes' bytes and the observations' JSON.

    0. **Room.** Wait until fewer than `max_in_flight` events are in commits, then count the
       batch's in; `admitted` is then set (the agent that closed the batch waits for it:
       backpressure).
    1. **Changelog records produced.** Each table's changes (the last value of each key) go to
       the same partition of the table's changelog topic, in bulk (aiokafka record batches,
       streams.checkpoint.changelog).
    2. **Observations produced.** The batch's observations go as one message, a JSON array,
       to the same partition of the observations topic (so a post's observations stay in
       order).
       Steps 0 to 2 run for a partition's batches strictly in the order they closed (the
       commits start in that order and take the partition's lock, which is FIFO, even while
       one waits for room): the last record of a key in a compacted changelog is its newest
       value.
    3. **Durable.** Wait until the broker has acknowledged (acks=all, idempotent producer) every
       record of steps 1 and 2. A record it does not take is produced again after the project's
       backoff until it does — a changelog key with the value it has *now* in the store, never
       an older one — and the wait goes on. As each changelog record batch is acknowledged, the
       store records the changelog offset it now holds (faust's recovery resumes after it).
    4. **Acknowledged.** The batch's source messages are acknowledged, and their events leave
       the in-flight count. faust commits each source partition's offset up to its first
       message not yet acknowledged, at its commit interval.

    Invariants:
    - A source offset is committed only once its observations, its state changes and its dead
      letters (acknowledged by the same rule, streams.deadletter) are on the broker.
    - A crash at any step loses nothing and doubles nothing that matters: the unacknowledged
      messages are consumed again; re-processing them is idempotent (a velocity observation
      seen already is a duplicate, the sink upserts, a dead letter is unique by topic,
      partition, offset and element).
    - The local store may be ahead of its changelog (a crash between the RocksDB write and
      step 3): the messages that wrote it are consumed again and their changes, found already
      applied, are not written a second time; the store never claims a changelog offset the
      broker has not acknowledged.
    """
    loop = asyncio.get_running_loop()
    parts: list[asyncio.Future] = []

    def part() -> Callable[[], None]:
        fut = loop.create_future()
        parts.append(fut)

        def done() -> None:
            if not fut.done():
                fut.set_result(None)

        return done

    async with outbox.lock(partition):
        await outbox.take(batch.events)  # 0
        admitted.set_result(None)
        for table, changes in batch.changes.items():  # 1
            await outbox.changelog.send(table, partition, changes, part())
        await outbox.sender.send(  # 2
            batch.value(),
            partition=partition,
            on_durable=part(),
            weight=batch.events,
            label=f"batch of {batch.events} for partition {partition}",
        )
    await asyncio.gather(*parts)  # 3
    outbox.release(batch.events)  # 4
    for ack in batch.acks:
        ack()
