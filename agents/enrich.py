"""The enrichment path shared by the posts and refresh agents (DESIGN §4).

decode → sentiment (cached per post) → velocity (table) → trending → observation to the
sink, delta to the per-subreddit stats, state to the Redis mirror. A message that cannot be
decoded, or whose processing raises, becomes a dead letter and the stream moves on.
"""
from __future__ import annotations

import logging
import time

from streams import deadletter
from streams.analytics import sentiment, trending, velocity
from streams.app import app, settings
from streams.records import InvalidMessage, Observation, PostSnapshot, decode_snapshot
from streams.topics import dlq_topic, observations_topic
from tables.mirror_service import mirror
from tables.state import VELOCITY_TTL_S, sentiment_table, velocity_table
from tables.subreddit_stats import StatsDelta, stats_topic
from web.metrics import DEAD_LETTERS, EVENTS, PROCESS_SECONDS

log = logging.getLogger(__name__)
TRENDING = trending.TrendingConfig.from_settings(settings)


def sentiment_for(snap: PostSnapshot) -> tuple[float, bool]:
    """(compound, computed_now): from the cache, or computed once and cached."""
    cached = sentiment_table.get(snap.id)
    if cached is not None:
        return float(cached["s"]), False
    text = sentiment.sentiment_text(snap.title, snap.selftext, settings.sentiment_selftext_chars)
    score = sentiment.compound(text)
    sentiment_table[snap.id] = {"s": score, "t": snap.observed_at}
    return score, True


async def enrich(snap: PostSnapshot) -> Observation:
    compound, computed = sentiment_for(snap)
    raw = velocity_table.get(snap.id)
    prev = velocity.VelocityState.from_dict(raw) if raw else None
    result = velocity.update(prev, snap.score, snap.num_comments, snap.observed_at, VELOCITY_TTL_S)
    if result.changed:
        state = result.state.to_dict()
        velocity_table[snap.id] = state
        mirror.put(snap.id, state)
    score = trending.trending_score(result.score_velocity, snap.num_comments, compound, TRENDING)
    obs = Observation(
        snapshot=snap, sentiment=compound, score_velocity=result.score_velocity,
        comment_velocity=result.comment_velocity, trending_score=score,
        is_trending=trending.is_trending(score, TRENDING), has_velocity=result.has_velocity,
    )
    await observations_topic.send(key=snap.id, value=obs)
    if result.outcome is not velocity.Outcome.DUPLICATE:
        await stats_topic.send(key=snap.subreddit, value=StatsDelta(
            subreddit=snap.subreddit, observed_at=snap.observed_at,
            new_posts=1 if computed else 0, sentiment_sum=compound if computed else 0.0,
            score_velocity=result.score_velocity if result.has_velocity else 0.0,
        ))
    return obs


async def handle(event, topic_name: str) -> None:  # noqa: ANN001 - faust Event
    started = time.perf_counter()
    try:
        snap = decode_snapshot(event.value)
        await enrich(snap)
    except Exception as exc:  # noqa: BLE001 - every failure is dead-lettered, none crashes the stream
        outcome = "invalid" if isinstance(exc, InvalidMessage) else "error"
        if outcome == "error":
            log.exception("processing %s[%d]@%d failed", topic_name, event.message.partition,
                          event.message.offset)
        dl = deadletter.envelope(topic=topic_name, partition=event.message.partition,
                                 offset=event.message.offset, key=event.key, value=event.value, error=exc)
        await deadletter.publish(dlq_topic, dl)
        DEAD_LETTERS.labels(topic_name, dl.error_type).inc()
        EVENTS.labels(topic_name, outcome).inc()
        return
    EVENTS.labels(topic_name, "ok").inc()
    PROCESS_SECONDS.labels(topic_name).observe(time.perf_counter() - started)
