"""The enrich agents' fast path to a faust Table: its RocksDB partitions read and written directly.

faust's own path for `table[key] = value` costs, per write, its JSON registry, a sensor call,
a `FutureMessage` through the producer buffer, one `producer.send` and one RocksDB write of
the persisted offset when the broker acknowledges it — most of an event's CPU at a few
thousand events/s. Here the agents write the serialized value to the partition's RocksDB
database themselves and hand the changelog record to the outbox (streams.checkpoint), which
produces a partition's changelog records in bulk (streams.checkpoint.changelog) and acknowledges the
events only once they are on the broker.

The bytes are exactly faust's: the key as the raw post id (the tables' `key_type=bytes`),
the value as JSON (the tables' serializer), the partition that of the event (faust's tables
are co-partitioned with their source topics). So faust's recovery, its standby replicas, the
expiry sweep and the web views' `table.get` read what is written here unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from faust.types import TP

from streams.runtime.store import multi_get, partition_db, write_batch


class DirectTable:
    def __init__(self, table: Any) -> None:
        self.table = table

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def topic(self) -> str:
        return self.table.changelog_topic.get_topic_name()

    def _db(self, partition: int) -> Any:
        return partition_db(self.table, partition)

    def estimated_keys(self, partition: int) -> int:
        """RocksDB's estimate of the keys in one partition's database (no scan)."""
        return int(self._db(partition).property_int_value("rocksdb.estimate-num-keys") or 0)

    def raw(self, partition: int, key: bytes) -> bytes | None:
        return self._db(partition).get(key)

    def get_many(self, partition: int, keys: Sequence[bytes]) -> list[bytes | None]:
        """The values' bytes of `keys` (None where absent): one RocksDB multi-get."""
        return multi_get(self._db(partition), list(keys))

    def write(self, partition: int, changes: Mapping[bytes, bytes | None]) -> None:
        """Apply a batch's changes (already serialized) in one RocksDB write batch."""
        write_batch(self._db(partition), changes)

    def persisted(self, partition: int, offset: int) -> None:
        """Record that the changelog up to `offset` is in the local store (faust's recovery
        resumes after it)."""
        tp = TP(self.topic, partition)
        current = self.table.data.persisted_offset(tp)
        if current is None or offset > current:
            self.table.data.set_persisted_offset(tp, offset)
