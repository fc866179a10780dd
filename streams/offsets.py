"""Decisions about offsets, pure and unit-tested: which topics have gapless offsets, the next
offset expected per partition after a rebalance (streams.runtime.consumer), and whether a
partition has lost a record (agents.watchdog)."""

from __future__ import annotations

from collections.abc import Iterable

from faust.types import TP

STRIKES = 3  # checks in a row that find the same record lost before the watchdog re-seeks


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

    def forget(self, tps: Iterable[TP]) -> None:
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


OK, WAIT, RESEEK = "ok", "wait", "reseek"


def assess(
    position: int | None, needed: int, in_flight: bool, seen: tuple[int, int] | None, strikes_needed: int = STRIKES
) -> tuple[str, tuple[int, int] | None]:
    """Decide for one partition: (verdict, what to remember for the next check).

    `position` is aiokafka's next offset to fetch, `needed` the first offset faust has not
    finished (its next commit), `in_flight` whether that record is being processed or already
    done, `seen` what the previous check remembered: (needed then, strikes)."""
    if position is None or position <= needed or in_flight:
        return OK, None  # caught up, nothing fetched past it, or someone holds the record
    prev, strikes = seen if seen is not None else (needed, 0)
    strikes = strikes + 1 if prev == needed else 1
    if strikes >= strikes_needed:
        return RESEEK, None
    return WAIT, (needed, strikes)


def watched(topic: str) -> bool:
    return is_ordered(topic) and not topic.endswith("-__assignor-__leader")
