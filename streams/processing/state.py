"""The state the enrichment reads and writes: one key-value table per name, per partition.

The worker's implementation (tables.direct.DirectTable) reads a partition's RocksDB database
with one multi-get and writes a batch's changes in one RocksDB write batch; `MemoryState` is
the same contract in a dict, for the unit tests and the benches. Values are bytes (JSON): what
the store holds is exactly what goes to the table's changelog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import orjson


class Table(Protocol):
    """A partitioned key-value table (keys and values are bytes)."""

    def get_many(self, partition: int, keys: Sequence[bytes]) -> list[bytes | None]:
        """The values of `keys` (None where absent), in order."""
        ...

    def write(self, partition: int, changes: Mapping[bytes, bytes | None]) -> None:
        """Apply `changes` (None: delete) at once: all of them or, when it raises, none."""
        ...


def read_json(table: Table, partition: int, keys: Sequence[bytes]) -> dict[bytes, dict | None]:
    """The JSON values of `keys` (one multi-get), parsed: key -> value (None where absent)."""
    return {
        k: (orjson.loads(v) if v is not None else None)
        for k, v in zip(keys, table.get_many(partition, keys), strict=True)
    }


class MemoryTable:
    """`Table` in memory."""

    def __init__(self) -> None:
        self.partitions: dict[int, dict[bytes, bytes]] = {}
        self.writes = 0  # write calls, for tests that count them

    def get_many(self, partition: int, keys: Sequence[bytes]) -> list[bytes | None]:
        data = self.partitions.get(partition, {})
        return [data.get(k) for k in keys]

    def write(self, partition: int, changes: Mapping[bytes, bytes | None]) -> None:
        self.writes += 1
        data = self.partitions.setdefault(partition, {})
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
