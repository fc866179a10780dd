"""The sink: enriched observations → PostgreSQL, at least once, in micro-batches (docs/design.md §5).

Reads the observations topic as raw bytes (a message that is not an Observation is
dead-lettered with its bytes instead of crashing the agent in faust's deserializer), buffers
events with manual acks (`stream.noack()`), and flushes at SINK_BATCH_SIZE events or when the
oldest is SINK_FLUSH_SECONDS old: one transaction (streams.db.writer.write_batch), then
`stream.ack(event)` for each event, so faust commits an offset only after its row (or its dead
letter, in `dlq_events`, same transaction) is committed. While the database fails, the flush
retries with backoff and the agent pulls nothing more (backpressure).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

from streams.app import app, settings
from streams.db.batcher import Batcher
from streams.db.pool import sink_pool
from streams.db.writer import write_batch
from streams.metrics import SINK_BUFFERED, SINK_FLUSH_SECONDS, SINK_RETRIES, SINK_ROWS
from streams.processing.sink import items_for
from streams.retry import Backoff

log = logging.getLogger(__name__)
WORKER = f"{socket.gethostname()}:{os.getpid()}"

# A raw view of the observations topic (streams.topics.observations_topic carries the same
# messages typed as Observation, for producers).
observations_raw = app.topic(
    settings.topic_observations,
    value_serializer="raw",
    key_serializer="raw",
    partitions=settings.topic_partitions,
    internal=True,
)
pool = sink_pool(settings)


async def write(batches) -> object:
    items = [item for batch in batches for item in batch]
    async with pool.connection() as conn:
        return await write_batch(conn, items, retention_days=settings.retention_days)


def _retry(exc: BaseException, delay: float) -> None:
    SINK_RETRIES.labels("sink").inc()
    log.warning(
        "sink: flush failed (%s: %s); retrying in %.1fs, not consuming meanwhile",
        type(exc).__name__,
        str(exc).strip()[:200],
        delay,
    )


def _flushed(items, result, seconds: float) -> None:
    SINK_ROWS.labels("written").inc(result.rows)
    SINK_ROWS.labels("dead_letter").inc(len(result.dead))
    SINK_FLUSH_SECONDS.observe(seconds)


@app.agent(observations_raw, name="sink")
async def sink(stream):
    await pool.open(wait=False)
    stream = stream.noack()
    batcher = Batcher(
        write,
        stream.ack,
        batch_size=settings.sink_batch_size,
        flush_seconds=settings.sink_flush_seconds,
        backoff=Backoff(cap=settings.sink_retry_max_seconds),
        on_retry=_retry,
        on_flushed=_flushed,
    )
    ticker = asyncio.ensure_future(batcher.run_ticker())
    gauge = SINK_BUFFERED.labels("sink")
    try:
        async for event in stream.events():
            items = items_for(event.message, worker=WORKER, now=time.time())
            await batcher.add(event, items, weight=len(items))
            gauge.set(len(batcher))
    finally:
        ticker.cancel()
