"""faust's RocksDB table store: the project's direct access to it, and the store the app uses.

- `partition_db`, `open_partition_dbs`, `decode_value`, `forget_key`: a table partition's
  rocksdict database and faust's own value decoding and key index, for the enrich agents'
  fast path (tables.direct) and the expiry sweep (tables.expiry).
- `Store` (the app's `store="redditstream://"`, registered through faust's `faust.stores`
  entry point in pyproject.toml): faust's RocksDB store that, when a partition is assigned,
  discards a local partition whose persisted changelog offset is past the end of its changelog
  topic, so that faust restores it from the changelog instead of crashing the worker with
  `ConsistencyError` at every start ("persisted offset ... is higher than the last offset in
  that topic"). That happens when the changelog topics were deleted or recreated, or the data
  directory holds another cluster's state.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from typing import Any

from faust.stores import rocksdb
from faust.types import TP
from prometheus_client import Counter
from rocksdict import WriteBatch

log = logging.getLogger(__name__)
DISCARDED = Counter(
    "redditstream_table_partitions_discarded_total",
    "Local table partitions discarded because they were ahead of their changelog",
    ["table"],
)


def partition_db(table: Any, partition: int) -> Any:
    """The rocksdict database of one partition of `table` (opened if it is not)."""
    return table.data._db_for_partition(partition)


def multi_get(db: Any, keys: list[bytes]) -> list[bytes | None]:
    """The values of `keys` in a partition's database, one RocksDB multi-get (rocksdict's
    `get` with a list)."""
    return db.get(keys) if keys else []


def write_batch(db: Any, changes: Mapping[bytes, bytes | None]) -> None:
    """Apply `changes` (None: delete) to a partition's database in one RocksDB write batch:
    all of them or none. The batch is in raw mode, like faust's databases."""
    batch = WriteBatch(raw_mode=True)
    for key, value in changes.items():
        if value is None:
            batch.delete(key)
        else:
            batch.put(key, value)
    db.write(batch)


def open_partition_dbs(table: Any) -> dict[int, Any] | None:
    """partition -> database of the partitions `table` has open; None for a non-RocksDB store."""
    dbs = getattr(table.data, "_dbs", None)
    return None if dbs is None else dict(dbs)


def decode_value(table: Any, raw: bytes) -> Any:
    """A stored value as faust's table API returns it (the table's value serializer)."""
    return table.data._decode_value(raw)


def forget_key(table: Any, raw_key: bytes) -> None:
    """Drop a deleted key from faust's key → partition index (the store keeps one per table)."""
    table.data._key_index.pop(raw_key, None)


def ahead_of_changelog(persisted: Mapping[TP, int | None], end_offsets: Mapping[TP, int | None]) -> list[TP]:
    """The partitions whose last applied changelog offset is at or past the topic's end offset
    (the next offset to be written): a store cannot have applied a record the topic never had."""
    ahead = []
    for tp, offset in persisted.items():
        end = end_offsets.get(tp)
        if offset is not None and end is not None and offset >= end:
            ahead.append(tp)
    return sorted(ahead, key=lambda tp: (tp.topic, tp.partition))


class Store(rocksdb.Store):
    """faust's RocksDB store that discards a partition ahead of its changelog (module doc)."""

    async def assign_partitions(self, table: Any, tps: set[TP], generation_id: int = 0) -> None:
        await super().assign_partitions(table, tps, generation_id)
        opened = [tp for tp in tps if tp.topic in table.changelog_topic.topics and tp.partition in self._dbs]
        persisted = {tp: self.persisted_offset(tp) for tp in opened}
        if not any(offset is not None for offset in persisted.values()):
            return
        end_offsets = await self.app.consumer.highwaters(*[tp for tp, o in persisted.items() if o is not None])
        for tp in ahead_of_changelog(persisted, end_offsets):
            self.discard_partition(tp, persisted[tp] or 0, end_offsets[tp])

    def discard_partition(self, tp: TP, persisted: int, end_offset: int) -> None:
        log.warning(
            "table %s: the local store of %s[%d] has applied changelog offset %d but the topic ends at "
            "%d (deleted or recreated?); discarding it and restoring from the changelog",
            self.table_name,
            tp.topic,
            tp.partition,
            persisted,
            end_offset,
        )
        DISCARDED.labels(self.table_name).inc()
        db = self._dbs.pop(tp.partition, None)
        if db is not None:
            db.close()
        self._key_index.clear()
        shutil.rmtree(self.partition_path(tp.partition), ignore_errors=True)
        self._db_for_partition(tp.partition)  # reopen, empty
