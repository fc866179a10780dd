"""The enrichment path shared by the posts and refresh agents (DESIGN §4).

decode → sentiment (computed once per post) → velocity (table) → trending → observation to the
sink (batched per partition, streams.outbox), sums to the per-subreddit stats, state to the Redis
mirror. A message that cannot be decoded, or whose processing raises, becomes a dead letter and
the stream moves on. The agents ack by hand: an event is acknowledged once its observation's
batch, or its dead letter, is on the broker (streams.delivery) — never before.

Per event this costs one read and (unless the observation is a replay or out of order) one
write of the velocity table: the post's sentiment travels in its velocity entry, so a refresh
never touches the sentiment table; that table is read and written only for a post whose entry
is absent (its first observation, or one after the TTL), and VADER runs only on a cache miss.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time

from streams import deadletter
from streams.delivery import DurableSender
from streams.outbox import Outbox
from streams.analytics import sentiment, trending, velocity
from streams.app import app, settings
from streams.records import InvalidMessage, PostSnapshot, decode_snapshot
from streams.topics import dlq_topic, observations_topic
from tables.mirror_service import mirror
from tables.state import VELOCITY_TTL_S, sentiment_table, velocity_table
from tables.subreddit_stats import StatsAccumulator, stats_topic
from web.metrics import DEAD_LETTERS, EVENTS, PROCESS_SECONDS

log = logging.getLogger(__name__)
TRENDING = trending.TrendingConfig.from_settings(settings)
stats = StatsAccumulator()
outbox = Outbox(DurableSender(observations_topic, what="observations"),
                max_records=settings.observation_batch_size, max_delay=settings.observation_batch_seconds)
dead_letters = DurableSender(dlq_topic, what="dead letter")


def sentiment_of(snap: PostSnapshot) -> tuple[float, bool]:
    """(compound, computed_now) for a post without a velocity entry: cache, else VADER once."""
    cached = sentiment_table.get(snap.id)
    if cached is not None:
        return float(cached["s"]), False
    text = sentiment.sentiment_text(snap.title, snap.selftext, settings.sentiment_selftext_chars)
    score = sentiment.compound(text)
    sentiment_table[snap.id] = {"s": score, "t": snap.observed_at}
    return score, True


def observation_bytes(snap: PostSnapshot, compound: float, result: velocity.VelocityResult,
                      score: float) -> bytes:
    """The `Observation` record (streams.records) as JSON, without building the faust Record."""
    return json.dumps({
        "snapshot": snap.asdict(), "sentiment": compound, "score_velocity": result.score_velocity,
        "comment_velocity": result.comment_velocity, "trending_score": score,
        "is_trending": trending.is_trending(score, TRENDING), "has_velocity": result.has_velocity,
    }, separators=(",", ":")).encode()


def enrich(snap: PostSnapshot) -> bytes:
    """The observation of `snap` (JSON bytes) after updating the tables, the mirror and the stats."""
    raw = velocity_table.get(snap.id)
    prev = velocity.VelocityState.from_dict(raw) if raw else None
    if raw is not None and "sentiment" in raw:
        compound, computed = float(raw["sentiment"]), False
    else:
        compound, computed = sentiment_of(snap)
    result = velocity.update(prev, snap.score, snap.num_comments, snap.observed_at, VELOCITY_TTL_S)
    if result.changed:
        state = result.state.to_dict()
        state["sentiment"] = compound
        velocity_table[snap.id] = state
        mirror.put(snap.id, state)
    score = trending.trending_score(result.score_velocity, snap.num_comments, compound, TRENDING)
    if result.outcome is not velocity.Outcome.DUPLICATE:
        stats.add(snap.subreddit, snap.observed_at, new_post=computed, sentiment=compound,
                  score_velocity=result.score_velocity if result.has_velocity else 0.0)
    return observation_bytes(snap, compound, result, score)


async def handle(event, topic_name: str) -> None:  # noqa: ANN001 - faust Event
    started = time.perf_counter()
    try:
        snap = decode_snapshot(event.value)
        observation = enrich(snap)
    except Exception as exc:  # noqa: BLE001 - every failure is dead-lettered, none crashes the stream
        outcome = "invalid" if isinstance(exc, InvalidMessage) else "error"
        if outcome == "error":
            log.exception("processing %s[%d]@%d failed", topic_name, event.message.partition,
                          event.message.offset)
        dl = deadletter.envelope(topic=topic_name, partition=event.message.partition,
                                 offset=event.message.offset, key=event.key, value=event.value, error=exc)
        await deadletter.publish(dead_letters, dl, event.ack)
        DEAD_LETTERS.labels(topic_name, dl.error_type).inc()
        EVENTS.labels(topic_name, outcome).inc()
        return
    await outbox.add(event.message.partition, observation, event.ack)
    EVENTS.labels(topic_name, "ok").inc()
    PROCESS_SECONDS.labels(topic_name).observe(time.perf_counter() - started)


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
        except Exception:  # noqa: BLE001 - DurableSender retries; never let the flushing stop
            log.exception("flushing observation batches failed; retrying")


@app.on_before_shutdown.connect
async def flush_on_shutdown(app_, **kwargs) -> None:  # noqa: ANN001
    await outbox.flush_all()
    await send_stats()
