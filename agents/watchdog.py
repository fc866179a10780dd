"""Watchdogs for two faust/aiokafka gaps: topics missing from metadata, and lost records.

**Topics missing from the consumer's metadata.** faust creates the worker's topics and subscribes
to them right away; on a broker that has just created a topic, the consumer's first metadata
answer may not list it yet (KRaft brokers learn of new topics asynchronously). aiokafka then
logs "Topic ... not found in cluster metadata", assigns the topics it knows, and does not ask
again until `metadata_max_age_ms` (5 minutes): the group runs without that topic's partitions.
Every `METADATA_CHECK_SECONDS` `watch_topic_metadata` looks for subscribed topics the consumer's
metadata does not know and forces a metadata refresh; the new topic changes aiokafka's metadata
snapshot, which makes the group rebalance with it.

**Lost records.** Around a rebalance faust-streaming can lose records it has fetched: records
queued for an agent are dropped when the rebalance clears the queues, or records of a
partition that is not active yet are skipped, while aiokafka's fetch position has already moved
past them (faust-streaming#629; streams.runtime.consumer covers the related stale-prefetch case). Nothing
recovers from that by itself: the partition's committed offset stays at the first lost record
for good (or until the next rebalance), and the records after it are never processed.

Every `CHECK_SECONDS` `watch_lost_records` looks, for each partition of an agent-consumed topic,
at the offset faust would commit next (`committed`, the first offset not yet done) and asks:
is aiokafka's fetch position past it, while that record is neither being processed (faust's
unacked set: an agent holds it, or the sink's batch does) nor done (acked)? A partition found
so for `STRIKES` checks in a row with its committed offset unchanged has lost that record:
it is re-seeked to it. Reprocessing is safe: velocity updates of a redelivered observation are
no-ops, the sink's upserts are idempotent, dead letters carry their (partition, offset).
"""

from __future__ import annotations

import logging

from faust.types import TP
from prometheus_client import Counter

from streams.app import app
from streams.offsets import RESEEK, assess, watched
from streams.runtime.consumer import ordered_consumer
from streams.runtime.recovery import recovered

log = logging.getLogger(__name__)
CHECK_SECONDS = 5.0
METADATA_CHECK_SECONDS = 1.0
METADATA_REFRESHES = Counter(
    "redditstream_topic_metadata_refreshes_total",
    "Forced consumer metadata refreshes for subscribed topics missing from it",
)
RESEEKS = Counter("redditstream_stall_reseeks_total", "Partitions re-seeked by the lost-record watchdog", ["topic"])

_seen: dict[TP, tuple[int, int]] = {}  # tp -> (next needed offset at the last check, strikes)


@app.timer(interval=CHECK_SECONDS)
async def watch_lost_records() -> None:
    try:
        await check()
    except Exception:
        log.exception("lost-record watchdog: check failed")


async def check() -> None:
    consumer = ordered_consumer(app)
    if app.rebalancing or not recovered(app) or not consumer.flow_active:
        _seen.clear()
        return
    try:
        positions = consumer.fetch_positions()
    except AttributeError:  # consumer not started yet
        return
    active = {tp for tp in consumer.assignment() if watched(tp.topic)}
    for tp in list(_seen):
        if tp not in active:
            _seen.pop(tp, None)
    held = consumer.held_offsets()
    committed = consumer.committed_offsets()
    for tp in active:
        needed = max(committed.get(tp, 0), 0)
        verdict, seen = assess(positions.get(tp), needed, needed in held.get(tp, ()), _seen.get(tp))
        if seen is None:
            _seen.pop(tp, None)
        else:
            _seen[tp] = seen
        if verdict == RESEEK:
            log.warning(
                "lost-record watchdog: %s[%d] fetched up to %d but offset %d was never processed; re-seeking to it",
                tp.topic,
                tp.partition,
                positions.get(tp),
                needed,
            )
            RESEEKS.labels(tp.topic).inc()
            await consumer.seek(tp, needed)


@app.timer(interval=METADATA_CHECK_SECONDS)
async def watch_topic_metadata() -> None:
    try:
        missing = ordered_consumer(app).missing_topics()
        if missing:
            log.info("consumer metadata lacks subscribed topic(s) %s; refreshing it", ", ".join(sorted(missing)))
            METADATA_REFRESHES.inc()
            await ordered_consumer(app).refresh_metadata()
    except AttributeError:  # consumer not started yet
        return
    except Exception:
        log.exception("topic metadata watchdog: check failed")
