"""tables.direct.DirectTable on a real RocksDB database (rocksdict, opened as faust opens it):
values put are read back at once, written in one batch, and a newer put survives the write of
an older batch."""
from pathlib import Path

import orjson
from faust.stores.rocksdb import RocksDBOptions

from tables.direct import DirectTable


class Store:
    """The part of faust's RocksDB store DirectTable uses."""

    def __init__(self, root: Path) -> None:
        self.root, self.dbs, self.offsets = root, {}, {}

    def _db_for_partition(self, partition: int):  # noqa: ANN202
        if partition not in self.dbs:
            self.dbs[partition] = RocksDBOptions().open(self.root / f"p{partition}")
        return self.dbs[partition]

    def persisted_offset(self, tp):  # noqa: ANN001, ANN201
        return self.offsets.get(tp)

    def set_persisted_offset(self, tp, offset: int) -> None:  # noqa: ANN001
        self.offsets[tp] = offset


class Table:
    name = "velocity"

    def __init__(self, root: Path) -> None:
        self.data = Store(root)
        self.changelog_topic = type("Topic", (), {"get_topic_name": lambda self: "app-velocity-changelog"})()


def test_a_put_is_read_back_at_once_and_reaches_rocksdb_with_its_batch(tmp_path):
    t = DirectTable(Table(tmp_path))
    data = t.put(3, b"p1", {"score": 5})
    assert data == orjson.dumps({"score": 5}) and t.get(3, b"p1") == {"score": 5}
    db = t.table.data._db_for_partition(3)
    assert db.get(b"p1") is None                      # not written yet
    t.write(3, {b"p1": data})
    assert db.get(b"p1") == data and not t.unwritten[3]
    assert t.get(3, b"p1") == {"score": 5} and t.get(2, b"p1") is None   # partitions are apart


def test_a_newer_put_survives_the_write_of_an_older_batch(tmp_path):
    t = DirectTable(Table(tmp_path))
    older = t.put(0, b"k", {"v": 1})
    newer = t.put(0, b"k", {"v": 2})                  # put again before the first batch is written
    t.write(0, {b"k": older})
    assert t.get(0, b"k") == {"v": 2}                 # the overlay still has the newer value
    t.write(0, {b"k": newer})
    assert t.table.data._db_for_partition(0).get(b"k") == newer and not t.unwritten[0]


def test_a_deletion_is_written_and_read_as_absent(tmp_path):
    t = DirectTable(Table(tmp_path))
    t.write(1, {b"gone": t.put(1, b"gone", {"v": 1})})
    t.write(1, {b"gone": None})
    assert t.get(1, b"gone") is None and t.raw(1, b"gone") is None


def test_the_persisted_changelog_offset_only_moves_forward(tmp_path):
    t = DirectTable(Table(tmp_path))
    t.persisted(2, 10)
    t.persisted(2, 7)      # a late delivery of an earlier batch
    assert list(t.table.data.offsets.values()) == [10]
