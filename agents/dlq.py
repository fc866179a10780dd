"""Persist every dead letter of the DLQ topic into `dlq_events` (durable, queryable; docs/design.md §5, §9).

Same delivery contract as the sink: manual acks after the batch's transaction commits; the
insert is idempotent on (source_topic, partition, offset), so a redelivered envelope is stored
once. A malformed envelope is stored too, as a dead letter of the DLQ topic itself.
"""

from __future__ import annotations

import asyncio
import time

from agents.sink import WORKER
from streams.app import app, settings
from streams.db.batcher import Batcher
from streams.db.pool import sink_pool
from streams.db.rows import dead_row_from_envelope
from streams.db.writer import write_dead
from streams.metrics import DLQ_PERSISTED, SINK_BUFFERED, SINK_RETRIES
from streams.retry import Backoff
from streams.topics import dlq_topic

pool = sink_pool(settings)


async def write(rows) -> int:
    async with pool.connection() as conn:
        async with conn.transaction():
            await write_dead(conn, rows)
    DLQ_PERSISTED.inc(len(rows))
    return len(rows)


@app.agent(dlq_topic, name="dlq_persist")
async def persist_dead_letters(stream):
    await pool.open(wait=False)
    stream = stream.noack()
    batcher = Batcher(
        write,
        stream.ack,
        batch_size=settings.sink_batch_size,
        flush_seconds=settings.sink_flush_seconds,
        backoff=Backoff(cap=settings.sink_retry_max_seconds),
        on_retry=lambda exc, delay: SINK_RETRIES.labels("dlq").inc(),
    )
    ticker = asyncio.ensure_future(batcher.run_ticker())
    gauge = SINK_BUFFERED.labels("dlq")
    try:
        async for event in stream.events():
            m = event.message
            await batcher.add(
                event,
                dead_row_from_envelope(
                    m.value, topic=m.topic, partition=m.partition, offset=m.offset, failed_at=time.time(), worker=WORKER
                ),
            )
            gauge.set(len(batcher))
    finally:
        ticker.cancel()
