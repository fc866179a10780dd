"""The enrichment path shared by the posts and refresh agents (docs/design.md §4).

decode → sentiment (computed once per post) → velocity (table) → trending → observation to the
sink (batched per partition, streams.outbox), sums to the per-subreddit stats, state to the Redis
mirror. A message that cannot be decoded, or whose processing raises, becomes a dead letter and
the stream moves on. The agents ack by hand: an event is acknowledged once its observation's
batch and its table changes, or its dead letter, are on the broker (streams.outbox,
streams.delivery) — never before.

Per event this costs one read and (unless the observation is a replay or out of order) one
write of the velocity table, both straight to the partition's RocksDB database, the changelog
record going out with the partition's batch (tables.direct, tables.changelog): the post's
sentiment travels in its velocity entry, so a refresh never touches the sentiment table; that
table is read and written only for a post whose entry is absent (its first observation, or
one after the TTL), and VADER runs only on a cache miss.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from typing import NoReturn

from prometheus_client import Counter, Histogram

from streams import deadletter
from streams.analytics import sentiment, trending, velocity
from streams.app import app, settings
from streams.delivery import DurableSender
from streams.outbox import Change, Outbox
from streams.records import InvalidMessage, decode_snapshot_fields, encode_observation
from streams.retry import Backoff
from streams.runtime.application import kafka_producer
from streams.topics import dlq_topic, observations_topic
from tables.changelog import ChangelogSender
from tables.direct import DirectTable
from tables.mirror_service import mirror
from tables.state import VELOCITY_TTL_S, sentiment_table, velocity_table
from tables.subreddit_stats import StatsAccumulator, stats_topic

log = logging.getLogger(__name__)
RETRY = Backoff(base=0.5, cap=10.0)  # processing paused by an environmental failure
# RocksDB turns a database read-only after a failed write (a full disk), until it is reopened:
# retrying longer than this cannot succeed, the worker stops and its restart reopens the stores
ENVIRONMENT_RETRY_SECONDS = 30.0
EVENTS = Counter("redditstream_events_total", "Messages consumed, by topic and outcome", ["topic", "outcome"])
DEAD_LETTERS = Counter(
    "redditstream_dead_letters_total",
    "Dead letters published, by source topic and error type",
    ["source_topic", "error_type"],
)
PROCESS_SECONDS = Histogram(
    "redditstream_process_seconds",
    "Time to enrich one event",
    ["topic"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0),
)
TRENDING = settings.trending
VELOCITY = DirectTable(velocity_table)
SENTIMENT = DirectTable(sentiment_table)
stats = StatsAccumulator()
outbox = Outbox(
    DurableSender(observations_topic, what="observations"),
    ChangelogSender(lambda: kafka_producer(app)),
    max_records=settings.observation_batch_size,
    max_delay=settings.observation_batch_seconds,
)
dead_letters = DurableSender(dlq_topic, what="dead letter")


def sentiment_of(snap: dict, partition: int, key: bytes) -> tuple[float, bool]:
    """(compound, computed_now) for a post without a velocity entry: cache, else VADER once."""
    cached = SENTIMENT.get(partition, key)
    if cached is not None:
        return float(cached["s"]), False
    text = sentiment.sentiment_text(snap["title"], snap["selftext"], settings.sentiment_selftext_chars)
    return sentiment.compound(text), True


def enrich(snap: dict, partition: int) -> tuple[bytes, list[Change]]:
    """The observation of `snap` (a validated PostSnapshot's fields) as JSON bytes and the table
    changes for the changelog, after updating the tables, the mirror and the stats.

    The state is written last, when nothing that can fail is left: an event that fails (and is
    dead-lettered) leaves the tables as they were."""
    key = snap["id"].encode()
    raw = VELOCITY.get(partition, key)
    prev = velocity.VelocityState.from_dict(raw) if raw else None
    if raw is not None and "sentiment" in raw:
        compound, computed = float(raw["sentiment"]), False
    else:
        compound, computed = sentiment_of(snap, partition, key)
    result = velocity.update(prev, snap["score"], snap["num_comments"], snap["observed_at"], VELOCITY_TTL_S)
    score = trending.trending_score(result.score_velocity, snap["num_comments"], compound, TRENDING)
    observation = encode_observation(
        snap,
        sentiment=compound,
        score_velocity=result.score_velocity,
        comment_velocity=result.comment_velocity,
        trending_score=score,
        is_trending=trending.is_trending(score, TRENDING),
        has_velocity=result.has_velocity,
    )
    changes: list[Change] = []
    if computed:
        changes.append((SENTIMENT, key, SENTIMENT.put(partition, key, {"s": compound, "t": snap["observed_at"]})))
    if result.changed:
        state = result.state.to_dict()
        state["sentiment"] = compound
        changes.append((VELOCITY, key, VELOCITY.put(partition, key, state)))
        mirror.put(snap["id"], state)
    if result.outcome is not velocity.Outcome.DUPLICATE:
        stats.add(
            snap["subreddit"],
            snap["observed_at"],
            new_post=computed,
            sentiment=compound,
            score_velocity=result.score_velocity if result.has_velocity else 0.0,
        )
    return observation, changes


@functools.cache
def _ok_metrics(topic: str) -> tuple:
    """The topic's metric children, looked up once (prometheus' `labels()` is not free)."""
    return EVENTS.labels(topic, "ok"), PROCESS_SECONDS.labels(topic)


def historical(snap: dict, partition: int) -> tuple[bytes, list[Change]]:
    """The observation of a backfilled snapshot (agents/backfill.py): sentiment (VADER, not the
    live cache), no velocity (one historical observation has none), never trending now; the
    live tables, the Redis mirror and the live per-subreddit windows are left alone."""
    text = sentiment.sentiment_text(snap["title"], snap["selftext"], settings.sentiment_selftext_chars)
    compound = sentiment.compound(text)
    score = trending.trending_score(0.0, snap["num_comments"], compound, TRENDING)
    return encode_observation(
        snap,
        sentiment=compound,
        score_velocity=0.0,
        comment_velocity=0.0,
        trending_score=score,
        is_trending=False,
        has_velocity=False,
    ), []


async def consume(stream, topic_name: str, process=enrich) -> None:
    """The loop of the agents over the snapshot topics (posts, refresh, backfill), with manual
    acks: an event is acked once its observation's batch (or its dead letter) is on the broker."""
    async for event in stream.noack().events():
        await handle(event, topic_name, process)


async def handle(event, topic_name: str, process=enrich) -> None:
    """Process one event with `process` (`enrich`, or `historical` for the backfill topic)."""
    started = time.perf_counter()
    partition = event.message.partition
    attempt = 0
    while True:
        try:
            observation, changes = process(decode_snapshot_fields(event.value), partition)
            break
        except Exception as exc:  # noqa: BLE001 - dead-lettered or retried: none crashes the stream
            if not deadletter.is_environmental(exc):
                await dead_letter(event, topic_name, partition, exc)
                return
            # the worker's own resources failed (a full disk, an I/O error), not the event: the
            # processing waits and retries, nothing is dead-lettered or acked meanwhile
            if time.perf_counter() - started > ENVIRONMENT_RETRY_SECONDS:
                give_up(topic_name, partition, event.message.offset, exc)
            delay = RETRY.delay(attempt)
            log.error(
                "processing %s[%d]@%d: %s; paused, retrying in %.1fs",
                topic_name,
                partition,
                event.message.offset,
                exc,
                delay,
            )
            attempt += 1
            await asyncio.sleep(delay)
    await outbox.add(partition, observation, event.ack, changes)
    ok, seconds = _ok_metrics(topic_name)
    ok.inc()
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


async def dead_letter(event, topic_name: str, partition: int, exc: Exception) -> None:
    """The event as a dead letter, acked once the dead letter is on the broker."""
    outcome = "invalid" if isinstance(exc, InvalidMessage) else "error"
    if outcome == "error":
        log.error("processing %s[%d]@%d failed", topic_name, partition, event.message.offset, exc_info=exc)
    dl = deadletter.envelope(
        topic=topic_name,
        partition=partition,
        offset=event.message.offset,
        key=event.key,
        value=event.value,
        error=exc,
        attempt=deadletter.attempt_of(event.message.headers),
    )
    await deadletter.publish(dead_letters, dl, event.ack)
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
