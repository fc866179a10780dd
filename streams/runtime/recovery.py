"""What faust's table recovery service (`app.tables.recovery`) tells of this member's tables.

- `recovered`: the tables' recovery has completed at least once (faust sets it only after the
  member's first assignment).
- `standby_lag`: the changelog records the standby copies of this member still lack, against
  the live end offsets of the changelog partitions. faust's own `standby_remaining_total()`
  does not answer that: its end offsets are those seen at the last rebalance, and it leaves out
  the partitions it has not read a record of yet (a standby that joined with an empty data
  directory counts 0 while it lacks everything). A lag of 0 means a kill -9 of the active
  owner fails over without a changelog restore (up to the last partial batch of
  `standby_buffer_size` records that faust applies together).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.types import TP


def recovered(app: Any) -> bool:
    return bool(app.tables.recovery.completed.is_set())


def changelog_lag(end_offsets: Mapping[TP, int | None], read: Mapping[TP, int]) -> int:
    """Records between the last offset read of each partition (-1: none) and its end offset
    (the next offset to be written; None: not known)."""
    return sum(max(0, end - 1 - read.get(tp, -1)) for tp, end in end_offsets.items() if end is not None)


def standby_lag(app: Any) -> int:
    if app.consumer is None:
        return 0
    recovery = app.tables.recovery
    ends = {tp: _end_offset(app.consumer, tp, recovery.standby_highwaters.get(tp)) for tp in recovery.standby_tps}
    return changelog_lag(ends, recovery.standby_offsets)


def _end_offset(consumer: Any, tp: TP, at_rebalance: int | None) -> int | None:
    """The consumer's end offset of `tp` from its last fetch response; before one, faust's of the
    last rebalance (which it stores as end offset - 1)."""
    try:
        end = consumer.highwater(tp)
    except AssertionError:  # aiokafka: "Partition is not assigned" (a rebalance is under way)
        end = None
    if end is None and at_rebalance is not None:
        return at_rebalance + 1
    return end
