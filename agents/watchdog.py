"""Stall watchdog for the source partitions.

faust-streaming sometimes loses the records of a partition it has just been assigned in a
rebalance: aiokafka's fetch position moves to the end of the partition, but the records never
reach the agent (a race between the fetcher, flow control and the seek to committed offsets;
seen in this project's kill -9 scale-out test about once in ten runs, and reported upstream as
faust-streaming#629). Nothing recovers from that by itself: the partition sits there, processed
offset behind, fetch position at the end, forever.

Every `CHECK_SECONDS` this timer compares, for each source partition this worker owns, the last
offset the agents finished (`processed`) with aiokafka's fetch position. A partition whose
position is ahead of what was processed, and whose processed offset has not moved for two checks
in a row while its agent was not busy, is re-seeked to the first unprocessed offset. Reprocessing
is safe: velocity updates of a redelivered observation are no-ops, the sink's upserts are
idempotent.
"""
from __future__ import annotations

import logging
import time

from faust.types import TP
from prometheus_client import Counter

from streams.app import app
from streams.topics import posts_topic, refresh_topic

log = logging.getLogger(__name__)
CHECK_SECONDS = 10.0
RESEEKS = Counter("redditstream_stall_reseeks_total", "Source partitions re-seeked by the stall watchdog",
                  ["topic"])

processed: dict[TP, int] = {}  # tp -> last offset the agents finished
busy_since: dict[str, float] = {}  # agent topic -> when the event being handled started
_last_seen: dict[TP, tuple[int | None, int]] = {}  # tp -> (processed at the last check, strikes)


def mark_started(topic: str) -> None:
    busy_since[topic] = time.monotonic()


def mark_done(tp: TP, offset: int) -> None:
    processed[tp] = offset
    busy_since.pop(tp.topic, None)


OK, WAIT, RESEEK = "ok", "wait", "reseek"


def assess(position: int | None, done: int | None, seen: tuple[int | None, int] | None,
           busy: bool, start: int = 0, strikes_needed: int = 2) -> tuple[str, tuple[int | None, int] | None]:
    """Decide for one partition: (verdict, what to remember for the next check).

    `position` is aiokafka's next offset to fetch, `done` the last offset the agent finished,
    `start` where this worker began reading the partition (the group's committed offset),
    `seen` what the previous check remembered: (done then, strikes)."""
    needed = done + 1 if done is not None else start
    if position is None or position <= needed:
        return OK, None  # caught up, or nothing fetched yet
    if busy:
        return WAIT, seen  # its agent is working (or retrying a dead letter): not a stall
    prev, strikes = seen if seen is not None else (done, 0)
    strikes = strikes + 1 if prev == done else 1
    if strikes >= strikes_needed:
        return RESEEK, None
    return WAIT, (done, strikes)


def _fetch_positions() -> dict[TP, int | None]:
    aio = app.consumer._thread._consumer  # the aiokafka consumer behind faust's consumer thread
    assignment = aio._subscription.subscription.assignment
    if assignment is None:
        return {}
    out: dict[TP, int | None] = {}
    for tp in assignment.tps:
        st = assignment.state_value(tp)
        out[TP(tp.topic, tp.partition)] = st._position if st is not None else None
    return out


@app.timer(interval=CHECK_SECONDS)
async def watch_source_partitions() -> None:
    try:
        await check()
    except Exception:  # noqa: BLE001 - a diagnostic aid must never take the worker down
        log.exception("stall watchdog: check failed")


async def check() -> None:
    if app.rebalancing or not app.tables.recovery.completed.is_set():
        _last_seen.clear()
        return
    sources = {posts_topic.get_topic_name(), refresh_topic.get_topic_name()}
    try:
        positions = _fetch_positions()
    except AttributeError:  # consumer not started yet
        return
    active = {TP(tp.topic, tp.partition) for tp in app.consumer.assignment() if tp.topic in sources}
    for tp in list(_last_seen):
        if tp not in active:
            _last_seen.pop(tp, None)
    for tp in active:
        committed = app.consumer._committed_offset.get(tp)
        start = committed if committed is not None and committed >= 0 else 0
        verdict, seen = assess(positions.get(tp), processed.get(tp), _last_seen.get(tp), tp.topic in busy_since,
                               start=start)
        if seen is None:
            _last_seen.pop(tp, None)
        else:
            _last_seen[tp] = seen
        if verdict != RESEEK:
            continue
        position, done = positions.get(tp), processed.get(tp)
        # nothing processed here yet: from the group's committed offset (faust read it when the
        # partition was assigned), or from the start when the group never committed one
        next_needed = (done + 1) if done is not None else start
        log.warning("stall watchdog: %s[%d] fetched up to %d but processed only up to %s; re-seeking to %d",
                    tp.topic, tp.partition, position, done, next_needed)
        RESEEKS.labels(tp.topic).inc()
        await app.consumer.seek(tp, next_needed)
        _last_seen.pop(tp, None)
