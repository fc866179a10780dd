"""Expiry of non-windowed table entries (faust has no per-key TTL for plain tables).

Two halves, as faust's maintainers suggest (robinhood/faust#216):
- the changelog topic is `compact,delete` with `retention.ms` = the TTL, so the broker drops
  entries that were not rewritten within the TTL, and a recovering worker does not bring
  them back for long;
- a timer deletes expired entries from the local store of the partitions this worker owns
  and writes a tombstone to the changelog, so compaction removes them at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from faust.types import TP

from streams.runtime.store import decode_value, forget_key, open_partition_dbs

log = logging.getLogger(__name__)


def changelog_config(ttl_seconds: float) -> dict[str, str]:
    ms = int(ttl_seconds * 1000)
    return {
        "cleanup.policy": "compact,delete",
        "retention.ms": str(ms),
        # retention works on closed segments: roll them often enough to matter
        "segment.ms": str(max(60_000, min(ms, 3_600_000))),
    }


def sweep(table: Any, is_expired: Callable[[Any], bool], limit: int = 10_000) -> int:
    """Delete up to `limit` expired entries of the active partitions; returns how many."""
    store = table.data
    dbs = open_partition_dbs(table)
    if dbs is None:  # memory store (tests): plain mapping semantics, no partitions
        return 0
    actives = table.app.assignor.assigned_actives()
    topic = table.changelog_topic.get_topic_name()
    removed = 0
    for partition, db in dbs.items():
        if TP(topic, partition) not in actives:
            continue
        doomed = []
        for raw_key, raw_value in db.items():
            if raw_key == store.offset_key:
                continue
            try:
                value = decode_value(table, raw_value)
            except Exception:  # noqa: BLE001 - an unreadable entry is not kept forever
                value = None
            if value is None or is_expired(value):
                doomed.append(raw_key)
                if len(doomed) + removed >= limit:
                    break
        for raw_key in doomed:
            db.delete(raw_key)
            forget_key(table, raw_key)
            table.send_changelog(partition, raw_key, None, key_serializer="raw", value_serializer="raw")
        removed += len(doomed)
        if removed >= limit:
            break
    if removed:
        log.info("expired %d entries from table %s", removed, table.name)
    return removed
