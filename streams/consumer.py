"""A faust consumer that never skips offsets of a source topic after a rebalance.

faust-streaming can hand its agents a record that was fetched *before* a rebalance after that
rebalance has seeked the partition back to its committed offset (faust-streaming#221: the fetch
was in flight in the consumer thread when the generation changed). faust then sees a jump
past the offset it expects, takes it for a compaction gap, marks the offsets in between as
done, moves its read offset past them, and drops them when they are fetched again: those
records are never processed, and the committed offset of the partition can stick below the
first of them for good. This project reproduced it by forcing a rebalance a second into a
burst (about half of the runs lost records).

`OrderedConsumer` keeps, per partition of an ordered topic (every topic but changelogs, whose
compaction makes gaps legitimate), the next offset it expects: the committed offset after the
post-rebalance seek, then each delivered offset + 1. A record beyond that offset is held back
and the partition is seeked to the expected offset, so the skipped records are fetched again.
A gap that is still there after that re-fetch is real (e.g. a transaction marker): the record
is then let through.
"""
from __future__ import annotations

import inspect
import logging
from typing import Any, AsyncIterator, Callable

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from prometheus_client import Counter

from streams.fetch_loop import FetchLoop

log = logging.getLogger(__name__)
RESEEKS = Counter("redditstream_consumer_gap_reseeks_total",
                  "Records that arrived past the expected offset (stale prefetch after a rebalance); "
                  "the partition was re-seeked to the expected offset", ["topic"])


def is_ordered(topic: str) -> bool:
    """Topics whose offsets have no legitimate gaps for this app (changelogs are compacted)."""
    return not topic.endswith("-changelog")


class GapTracker:
    """The next offset expected per partition, and the decision for each arriving record."""

    def __init__(self) -> None:
        self.expected: dict[TP, int] = {}
        self._held: set[tuple[TP, int]] = set()

    def reset(self, tp: TP, next_offset: int | None) -> None:
        if next_offset is None or next_offset < 0:
            self.expected.pop(tp, None)
        else:
            self.expected[tp] = next_offset

    def forget(self, tps) -> None:  # noqa: ANN001 - iterable of TP
        for tp in tps:
            self.expected.pop(tp, None)
        self._held = {h for h in self._held if h[0] in self.expected}

    def admit(self, tp: TP, offset: int) -> int | None:
        """None: deliver the record. Else: hold it back and re-seek the partition to that offset."""
        want = self.expected.get(tp)
        if want is None or offset <= want:
            self.expected[tp] = max(offset + 1, want or 0)
            self._held.discard((tp, offset))
            return None
        if (tp, offset) in self._held:  # seen past the same gap after a re-fetch: a real gap
            self._held.discard((tp, offset))
            self.expected[tp] = offset + 1
            return None
        self._held.add((tp, offset))
        return want


class OrderedConsumer(FetchLoop, faust_aiokafka.Consumer):
    """faust's aiokafka consumer with `GapTracker` in front of its stale-record handling (and
    the cheaper fetch loop of streams.fetch_loop)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.gaps = GapTracker()

    # -- the aiokafka consumer under faust's consumer thread (private attributes, versions pinned)

    def aiokafka(self) -> Any:
        """The aiokafka consumer that faust's consumer thread runs (None before it starts)."""
        return self._thread._consumer

    def assignment_states(self) -> dict[TP, Any]:
        """aiokafka's state (position, paused, ...) of every assigned partition."""
        aio = self.aiokafka()
        assignment = aio._subscription.subscription.assignment if aio is not None else None
        if assignment is None:
            return {}
        return {TP(tp.topic, tp.partition): assignment.state_value(tp) for tp in assignment.tps}

    def committed_offsets(self) -> dict[TP, int]:
        """faust's last committed offset of every partition that has one (its `_committed_offset`)."""
        return {tp: off for tp, off in self._committed_offset.items() if off is not None}

    async def on_consumer_thread(self, fn: Callable[[Any], Any]) -> Any:
        """Run `fn(aiokafka consumer)` on the consumer thread's event loop, where aiokafka lives."""
        aio = self.aiokafka()

        async def call() -> Any:
            result = fn(aio)
            return await result if inspect.isawaitable(result) else result
        return await self._thread.call_thread(call)

    async def perform_seek(self) -> None:
        await super().perform_seek()
        # no committed offset (faust also stores a committed 0 as None): with the "earliest"
        # reset the first offset is 0, or the log start after retention (one re-fetch admits it)
        default = 0 if self.app.conf.consumer_auto_offset_reset == "earliest" else None
        for tp in list(self.assignment()):
            if is_ordered(tp.topic):
                committed = self._committed_offset.get(tp)
                self.gaps.reset(tp, committed if committed is not None else default)

    async def seek(self, partition: TP, offset: int) -> None:
        await super().seek(partition, offset)
        self.gaps.reset(partition, offset)

    async def on_partitions_revoked(self, revoked) -> None:  # noqa: ANN001
        self.gaps.forget(revoked)
        await super().on_partitions_revoked(revoked)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        reseeked: set[TP] = set()  # the rest of this batch for these partitions is stale too
        async for tp, message in super().getmany(timeout):
            if tp in reseeked:
                continue
            if is_ordered(tp.topic):
                seek_to = self.gaps.admit(tp, message.offset)
                if seek_to is not None:
                    log.warning("%s[%d]: got offset %d while expecting %d (stale record after a rebalance); "
                                "re-fetching from %d", tp.topic, tp.partition, message.offset, seek_to, seek_to)
                    RESEEKS.labels(tp.topic).inc()
                    await self.seek(tp, seek_to)
                    reseeked.add(tp)
                    continue
            yield tp, message
