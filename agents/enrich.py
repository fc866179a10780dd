"""The wiring of the enrichment (streams.processing.enrich) to the posts, refresh and backfill
agents, and of the comments' processing (streams.processing.comments) to the comments agent
(docs/design.md §4): one path, a `Pipeline` each (how an element is decoded and processed).

A source message is a JSON array of snapshots (ingest and the backfill send one per partition
batch) or one snapshot (any other producer). One pass per message: decode every element, enrich
the valid ones together against the partition's RocksDB tables (one multi-get, one write batch
per table: tables.direct), hand the observations and the table changes to the partition's
outbox batch (streams.checkpoint), the entries to the Redis mirror, the sums to the per-subreddit
stats. An element that cannot be decoded, or whose enrichment raises, becomes a dead letter
with its own exact bytes and its index; the rest of the message is processed. The agents ack
by hand: a message is acknowledged once its observations' batch, its table changes and its
dead letters are on the broker (streams.checkpoint.commit) — never before.

VADER runs only for a post without a cached score: the post's sentiment travels in its
velocity entry, and the sentiment table is read only for the posts without one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from streams import deadletter
from streams.app import app, settings
from streams.checkpoint.changelog import ChangelogSender
from streams.checkpoint.delivery import Countdown, DurableSender
from streams.checkpoint.outbox import Outbox
from streams.metrics import DEAD_LETTERS, EVENTS, PROCESS_SECONDS
from streams.processing import messages
from streams.processing.enrich import EnrichConfig, Enriched, Enricher
from streams.records import InvalidMessage, parse_json, snapshot_fields
from streams.retry import Backoff
from streams.runtime.application import kafka_producer
from streams.topics import dlq_topic, observations_topic
from tables.mirror_service import mirror
from tables.state import SENTIMENT, VELOCITY, VELOCITY_TTL_S
from tables.subreddit_stats import stats_topic

log = logging.getLogger(__name__)
RETRY = Backoff(base=0.5, cap=10.0)  # processing paused by an environmental failure
# RocksDB turns a database read-only after a failed write (a full disk), until it is reopened:
# retrying longer than this cannot succeed, the worker stops and its restart reopens the stores
ENVIRONMENT_RETRY_SECONDS = 30.0
ENRICHER = Enricher(
    EnrichConfig(settings.trending, settings.sentiment_selftext_chars, VELOCITY_TTL_S), VELOCITY, SENTIMENT
)
TABLES = {Enricher.VELOCITY: VELOCITY, Enricher.SENTIMENT: SENTIMENT}
stats = ENRICHER.stats


@dataclass(frozen=True)
class Pipeline:
    """What the agents of one kind of record do with a message's elements."""

    decode: Callable[[Any], dict]  # an element -> its validated fields (InvalidMessage when it is not one)
    process: Callable[[Sequence[dict], int], Enriched]  # the valid elements of one partition's message
    tables: Mapping[str, Any]  # the processing's table names -> their DirectTable
    key_field: str = "id"  # the element's field that is its key (its post id): a dead letter's key


LIVE = Pipeline(snapshot_fields, ENRICHER.live, TABLES)
HISTORICAL = Pipeline(snapshot_fields, lambda snaps, partition: ENRICHER.historical(snaps), TABLES)
outbox = Outbox(
    DurableSender(observations_topic, what="observations"),
    ChangelogSender(lambda: kafka_producer(app)),
    max_records=settings.observation_batch_size,
    max_delay=settings.observation_batch_seconds,
)
dead_letters = DurableSender(dlq_topic, what="dead letter")


@functools.cache
def _metrics(topic: str) -> tuple:
    """The topic's metric children, looked up once (prometheus' `labels()` is not free)."""
    return EVENTS.labels(topic, "ok"), PROCESS_SECONDS.labels(topic)


async def consume(stream, topic_name: str, pipeline: Pipeline = LIVE) -> None:
    """The loop of the agents over the source topics (posts, refresh, backfill, comments), with
    manual acks: a message is acked once its observations' batch and its dead letters are on the
    broker."""
    async for event in stream.noack().events():
        await handle(event, topic_name, pipeline)


async def handle(event, topic_name: str, pipeline: Pipeline = LIVE) -> None:
    """Process one message: a JSON array of records (ingest's and the backfill's batches) or
    one record. `HISTORICAL`: the backfill topic's path (no live state touched)."""
    started = time.perf_counter()
    msg = event.message
    partition = msg.partition
    try:
        records, is_array = messages.elements(parse_json(event.value))
    except InvalidMessage as exc:
        await dead_letter(event, topic_name, [(0, exc)], messages.Elements(event.value, False))
        return
    snaps: list[dict] = []
    index: list[int] = []  # element index of each snapshot
    bad: list[tuple[int, Exception]] = []
    for i, record in enumerate(records):
        try:
            snaps.append(pipeline.decode(record))
            index.append(i)
        except InvalidMessage as exc:
            bad.append((i, exc))
    attempt = 0
    while True:
        try:
            result = pipeline.process(snaps, partition)
            break
        except Exception as exc:  # noqa: BLE001 - dead-lettered or retried: none crashes the stream
            if not deadletter.is_environmental(exc):
                # a failure of the message as a whole (its elements' own failures come back in
                # `result.failed`): every element that was not bad already is dead-lettered
                result = Enriched(failed=[(j, exc) for j in range(len(snaps))])
                break
            # the worker's own resources failed (a full disk, an I/O error), not the event: the
            # processing waits and retries, nothing is dead-lettered or acked meanwhile
            if time.perf_counter() - started > ENVIRONMENT_RETRY_SECONDS:
                give_up(topic_name, partition, msg.offset, exc)
            delay = RETRY.delay(attempt)
            log.error(
                "processing %s[%d]@%d: %s; paused, retrying in %.1fs", topic_name, partition, msg.offset, exc, delay
            )
            attempt += 1
            await asyncio.sleep(delay)
    bad.extend((index[j], exc) for j, exc in result.failed)
    for post_id, state in result.mirror:
        mirror.put(post_id, state)
    if bad:
        # the message is acked once its observations and each of its dead letters are durable
        done = Countdown((1 if result.observations else 0) + len(bad), event.ack)
        bad.sort(key=lambda b: b[0])
    else:
        done = event.ack
    if result.observations:
        await outbox.add_many(
            partition, result.observations, done, {pipeline.tables[n]: c for n, c in result.changes.items()}
        )
    elif not bad:
        event.ack()  # an empty array: nothing to wait for
    if bad:
        await dead_letter(
            event, topic_name, bad, messages.Elements(event.value, is_array), done, records, pipeline.key_field
        )
    ok, seconds = _metrics(topic_name)
    ok.inc(len(result.observations))
    seconds.observe(time.perf_counter() - started)


def give_up(topic_name: str, partition: int, offset: int, exc: BaseException) -> NoReturn:
    """Stop the worker at once, with one line: its data directory fails. Nothing is lost, the
    events are not acknowledged (the broker keeps them; a restart processes them again), and a
    graceful stop would wait for this one to be acknowledged."""
    log.critical(
        "processing %s[%d]@%d keeps failing for %.0fs (%s): the worker's local state cannot be "
        "written; it stops now (free the disk of DATA_DIR and restart it, nothing is lost)",
        topic_name,
        partition,
        offset,
        ENVIRONMENT_RETRY_SECONDS,
        exc,
    )
    logging.shutdown()
    os._exit(70)  # EX_SOFTWARE-ish: an exit a supervisor restarts


async def dead_letter(
    event,
    topic_name: str,
    bad: list[tuple[int, Exception]],
    elements: messages.Elements,
    on_durable=None,
    records: list | None = None,
    key_field: str = "id",
) -> None:
    """Dead letters for the failed elements `bad` (index, error) of a message, each with its own
    exact bytes and index; `on_durable` (default: the message's ack) runs once per dead letter on
    the broker."""
    msg = event.message
    attempt = deadletter.attempt_of(msg.headers)
    for i, exc in bad:
        outcome = "invalid" if isinstance(exc, InvalidMessage) else "error"
        if outcome == "error":
            log.error("processing %s[%d]@%d item %d failed", topic_name, msg.partition, msg.offset, i, exc_info=exc)
        key = event.key
        if elements.is_array and records is not None:
            # the element's own post id is its key, so that a replay lands in the post's partition
            pid = records[i].get(key_field) if isinstance(records[i], dict) else None
            key = pid.encode() if isinstance(pid, str) else key
        dl = deadletter.envelope(
            topic=topic_name,
            partition=msg.partition,
            offset=msg.offset,
            key=key,
            value=elements[i],
            error=exc,
            attempt=attempt,
            item=i,
        )
        await deadletter.publish(dead_letters, dl, on_durable or event.ack)
        DEAD_LETTERS.labels(topic_name, dl.error_type).inc()
        EVENTS.labels(topic_name, outcome).inc()


async def send_stats() -> None:
    for delta in stats.drain():
        await stats_topic.send(key=delta.subreddit, value=delta)


@app.timer(interval=1.0)
async def flush_stats() -> None:
    await send_stats()


@app.task
async def flush_observations() -> None:
    """Send the observation batches that are `OBSERVATION_BATCH_SECONDS` old.

    A task, not an `app.timer`: faust ends its timers as soon as the app starts stopping, and
    then waits for every event in flight to be acked before it commits and leaves the group
    (rebalances wait the same way). The events of an open batch are acked only once the batch
    is on the broker, so the flushing must go on during that wait; this loop runs until faust
    cancels the app's tasks, after the wait. With a timer a worker given SIGTERM mid-stream hung
    in `wait_empty` until it was killed, and its partitions waited a session timeout to move.
    """
    while True:
        await asyncio.sleep(settings.observation_batch_seconds)
        try:
            await outbox.flush_due()
        except Exception:
            log.exception("flushing observation batches failed; retrying")


@app.on_before_shutdown.connect  # type: ignore[arg-type]  # mode's stub wants a `signal` kwarg
async def flush_on_shutdown(app_, **kwargs) -> None:
    await outbox.flush_all()
    await send_stats()
