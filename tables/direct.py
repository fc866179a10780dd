"""The enrich agents' fast path to a faust Table: its RocksDB partitions read and written directly.

faust's own path for `table[key] = value` costs, per write, its JSON registry, a sensor call,
a `FutureMessage` through the producer buffer, one `producer.send` and one RocksDB write of
the persisted offset when the broker acknowledges it — most of an event's CPU at a few
thousand events/s. Here the agents hand the serialized value to `put`, and the outbox
(streams.outbox) writes a batch's values to the partition's RocksDB database in one
`WriteBatch` when it flushes the batch, then produces them as the changelog in bulk
(tables.changelog); the events are acknowledged only once that is on the broker. A RocksDB
write per event cost ~20 µs in a busy worker (its write-ahead log), one write per batch a
fraction of it. Until its batch is flushed (at most `OBSERVATION_BATCH_SECONDS`), a value is
read from `unwritten`: the agents always see their own writes; faust's readers (web views,
the expiry sweep) see it once written.

The bytes are exactly faust's: the key as the raw post id (the tables' `key_type=bytes`),
the value as JSON (the tables' serializer), the partition that of the event (faust's tables
are co-partitioned with their source topics). So faust's recovery, its standby replicas, the
expiry sweep and the web views' `table.get` read what is written here unchanged.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import orjson
import rocksdict
from faust.types import TP


class DirectTable:
    def __init__(self, table: Any) -> None:
        self.table = table
        # partition -> key -> value bytes (None: deleted) put but not yet written to RocksDB
        self.unwritten: dict[int, dict[bytes, Optional[bytes]]] = {}

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def topic(self) -> str:
        return self.table.changelog_topic.get_topic_name()

    def _db(self, partition: int) -> Any:
        return self.table.data._db_for_partition(partition)

    def raw(self, partition: int, key: bytes) -> Optional[bytes]:
        """The key's current value bytes (its unwritten value if it has one)."""
        pending = self.unwritten.get(partition)
        if pending and key in pending:
            return pending[key]
        return self._db(partition).get(key)

    def get(self, partition: int, key: bytes) -> Optional[Any]:
        raw = self.raw(partition, key)
        return None if raw is None else orjson.loads(raw)

    def put(self, partition: int, key: bytes, value: Any) -> bytes:
        """Set `value` (written to RocksDB with its batch, `write`); returns its bytes, the
        changelog record's value."""
        data = orjson.dumps(value)
        pending = self.unwritten.get(partition)
        if pending is None:
            pending = self.unwritten[partition] = {}
        pending[key] = data
        return data

    def write(self, partition: int, changes: Mapping[bytes, Optional[bytes]]) -> None:
        """Write a batch's `changes` to the partition's RocksDB database in one WriteBatch."""
        if not changes:
            return
        batch = rocksdict.WriteBatch(raw_mode=True)
        for key, value in changes.items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        self._db(partition).write(batch)
        pending = self.unwritten.get(partition)
        if pending:
            for key, value in changes.items():
                if key in pending and pending[key] is value:  # not put again since
                    del pending[key]

    def persisted(self, partition: int, offset: int) -> None:
        """Record that the changelog up to `offset` is in the local store (faust's recovery
        resumes after it)."""
        tp = TP(self.topic, partition)
        current = self.table.data.persisted_offset(tp)
        if current is None or offset > current:
            self.table.data.set_persisted_offset(tp, offset)
