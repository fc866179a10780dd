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
    recovery = app.tables.recovery
    standbys = set(recovery.standby_tps)
    if not standbys or app.consumer is None:
        return 0
    ends: dict[TP, int | None] = {}
    for tp in standbys:
        try:
            ends[tp] = app.consumer.highwater(tp)  # from the last fetch response; None before one
        except AssertionError:  # aiokafka: "Partition is not assigned" (a rebalance is under way)
            ends[tp] = None
        if ends[tp] is None:
            seen = recovery.standby_highwaters.get(tp)  # faust's: end offset - 1 at the rebalance
            ends[tp] = None if seen is None else seen + 1
    return changelog_lag(ends, dict(recovery.standby_offsets))
