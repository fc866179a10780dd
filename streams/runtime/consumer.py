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
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from prometheus_client import Counter

from streams.offsets import GapTracker, is_ordered
from streams.runtime.fetch_loop import FetchLoop

log = logging.getLogger(__name__)
RESEEKS = Counter(
    "redditstream_consumer_gap_reseeks_total",
    "Records that arrived past the expected offset (stale prefetch after a rebalance); "
    "the partition was re-seeked to the expected offset",
    ["topic"],
)


class OrderedConsumer(FetchLoop, faust_aiokafka.Consumer):
    """faust's aiokafka consumer with `GapTracker` in front of its stale-record handling (and
    the cheaper fetch loop of streams.runtime.fetch_loop)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gaps = GapTracker()

    # -- what the watchdogs, metrics and debug views read of faust's and aiokafka's consumers
    #    (private attributes, verified versions: streams.runtime.versions)

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

    def fetch_positions(self) -> dict[TP, int | None]:
        """aiokafka's next offset to fetch of every assigned partition (None: not known yet)."""
        return {tp: st._position if st is not None else None for tp, st in self.assignment_states().items()}

    def committed_offsets(self) -> dict[TP, int]:
        """faust's last committed offset of every partition that has one (its `_committed_offset`)."""
        return {tp: off for tp, off in self._committed_offset.items() if off is not None}

    def held_offsets(self) -> dict[TP, set[int]]:
        """Offsets faust tracks as being processed (unacked) or done but not yet committed (acked)."""
        held: dict[TP, set[int]] = {}
        for message in list(self._unacked_messages):
            held.setdefault(message.tp, set()).add(message.offset)
        for tp, offsets in list(self._acked.items()):
            held.setdefault(tp, set()).update(offsets)
        return held

    def missing_topics(self) -> set[str]:
        """Subscribed topics that aiokafka's cluster metadata does not list (yet)."""
        aio = self.aiokafka()
        if aio is None:
            return set()
        cluster = aio._client.cluster
        return {t for t in aio.subscription() if not cluster.partitions_for_topic(t)}

    async def refresh_metadata(self) -> None:
        """Make aiokafka fetch the cluster metadata now (a new topic then triggers a rebalance)."""
        await self.on_consumer_thread(lambda aio: aio._client.force_metadata_update())

    async def request_rejoin(self) -> None:
        """Make this member rejoin its group: a rebalance."""
        await self.on_consumer_thread(lambda aio: aio._coordinator.request_rejoin())

    def debug_state(self) -> dict[str, Any]:
        """The partitions as faust and aiokafka see them, for `/debug/partitions/` (web.debug)."""

        def names(tps: Any) -> list[str]:
            return sorted(f"{tp.topic}[{tp.partition}]" for tp in tps)

        aio_state: dict[str, Any] = {}
        try:
            for tp, st in self.assignment_states().items():
                aio_state[f"{tp.topic}[{tp.partition}]"] = {
                    "paused": st.paused,
                    "position": st._position,
                    "status": str(st._status),
                    "reset": st._reset_strategy,
                }
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            aio_state = {"unavailable": repr(exc)}
        return {
            "assigned": names(self.assignment()),
            "active": names(self._active_partitions or ()),
            "paused": names(self._paused_partitions or ()),
            "aiokafka": aio_state,
            "unacked_messages": len(self._unacked_messages),
            "acked_not_committed": {
                f"{tp.topic}[{tp.partition}]": len(offs) for tp, offs in self._acked.items() if offs
            },
            "committed": {f"{tp.topic}[{tp.partition}]": off for tp, off in self._committed_offset.items()},
        }

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

    async def on_partitions_revoked(self, revoked) -> None:
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
                    log.warning(
                        "%s[%d]: got offset %d while expecting %d (stale record after a rebalance); "
                        "re-fetching from %d",
                        tp.topic,
                        tp.partition,
                        message.offset,
                        seek_to,
                        seek_to,
                    )
                    RESEEKS.labels(tp.topic).inc()
                    await self.seek(tp, seek_to)
                    reseeked.add(tp)
                    continue
            yield tp, message


def ordered_consumer(app: Any) -> OrderedConsumer:
    """The app's consumer, typed as what streams.runtime.application makes it."""
    return cast(OrderedConsumer, app.consumer)
