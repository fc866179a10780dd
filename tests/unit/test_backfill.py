"""Pure parts of the backfill: reading dump files, mapping both generations, filters, bad lines,
the delivery watermark and the checkpoint."""

from __future__ import annotations

import json

import pytest
import zstandard

from streams.backfill.mapping import UPVOTE_RATIO_DEFAULT, BadLine, Filter, parse, to_fields
from streams.backfill.progress import Checkpoint, Counts, Watermark
from streams.backfill.reader import DumpReader
from streams.records import snapshot_fields
from tests.dumps import BAD_LINES, expected, submission, write_gz, write_plain, write_zst


def rows(n: int, generation: str = "new") -> list[dict]:
    return [submission(i, generation=generation, sub="python", created=1.7e9 + i) for i in range(n)]


@pytest.mark.parametrize("generation", ["old", "new"])
def test_both_generations_map_to_valid_snapshots(generation):
    for line in rows(60, generation):
        fields = to_fields(parse(json.dumps(line).encode()), 2000)
        assert fields == expected(line)
        assert snapshot_fields(fields) == fields  # what the worker's strict decoder accepts, unchanged


def test_mapping_rules():
    old = submission(17, generation="old", sub="Python", created=1.6e9)
    f = to_fields(old, 5)
    assert f["author"] is None and f["upvote_ratio"] == UPVOTE_RATIO_DEFAULT == 1.0
    assert f["created_utc"] == 1.6e9 and f["observed_at"] == 1.6e9 + 86400 and len(f["selftext"]) <= 5
    new = submission(3, generation="new", sub="python", created=1.7e9)
    assert to_fields(new, 2000)["observed_at"] == 1.7e9 + 7 * 86400  # the second fetch wins
    del new["_meta"]
    assert to_fields(new, 2000)["observed_at"] == 1.7e9 + 3600
    del new["retrieved_utc"]
    assert to_fields(new, 2000)["observed_at"] == 1.7e9
    assert to_fields({**new, "id": "t3_abc"}, 10)["id"] == "abc"
    assert to_fields({**new, "upvote_ratio": 7}, 10)["upvote_ratio"] == 1.0


@pytest.mark.parametrize("raw,reason", BAD_LINES)
def test_bad_lines_have_a_reason(raw, reason):
    with pytest.raises(BadLine) as exc:
        to_fields(parse(raw), 100)
    assert exc.value.reason == reason


def test_filters():
    f = Filter(("Python",), since=100.0, until=200.0)
    assert f.wants_subreddit({"subreddit": "PYTHON"}) and not f.wants_subreddit({"subreddit": "rust"})
    assert not f.wants_subreddit({"subreddit": 3})
    assert f.wants({"created_utc": 100.0}) and f.wants({"created_utc": 199.9})
    assert not f.wants({"created_utc": 99.9}) and not f.wants({"created_utc": 200.0})
    assert Filter().wants_subreddit({}) and Filter().wants({"created_utc": 1.0})


@pytest.mark.parametrize("writer", [write_zst, write_gz, write_plain])
@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_reader_splits_lines_across_chunk_borders_and_utf8(tmp_path, writer, chunk):
    data = rows(200) + [b"", "ünïcødé ✓ 数据 🐍".encode()]
    path = writer(
        tmp_path / {"write_zst": "a.zst", "write_gz": "a.gz", "write_plain": "a.ndjson"}[writer.__name__], data
    )
    got = list(DumpReader(path, chunk=chunk))
    assert [n for n, _ in got] == list(range(1, len(data) + 1))
    assert [json.loads(line) for _, line in got[:200]] == data[:200]
    assert got[-1][1].decode() == "ünïcødé ✓ 数据 🐍" and got[-2][1] == b""


def test_reader_takes_the_dumps_long_window_the_default_refuses(tmp_path):
    path = write_zst(tmp_path / "RS_long.zst", rows(50))
    with open(path, "rb") as f:
        assert zstandard.get_frame_parameters(f.read(18)).window_size == 2**31
    with pytest.raises(zstandard.ZstdError, match="too much memory"):
        with open(path, "rb") as raw:
            zstandard.ZstdDecompressor().stream_reader(raw).read(10)
    reader = DumpReader(path)
    assert sum(1 for _ in reader) == 50 and reader.compressed_read == path.stat().st_size


def test_reader_refuses_unknown_kinds(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a")
    with pytest.raises(ValueError, match="not a .zst"):
        list(DumpReader(path))


def test_watermark_follows_the_lowest_undelivered_line():
    mark = Watermark(start=10)
    assert mark.value() == 10
    a, b = mark.sent(11), mark.sent(14)
    mark.read_up_to = 20
    assert mark.value() == 10
    Watermark.delivered(b)
    assert mark.value() == 10  # line 11 is not on the broker yet
    Watermark.delivered(a)
    assert mark.value() == 20  # everything read so far


def test_checkpoint_round_trip_and_a_changed_file(tmp_path):
    dump = write_plain(tmp_path / "d.ndjson", rows(3))
    cp = Checkpoint(tmp_path / "state" / "cp.json")
    assert cp.lines_done(dump) == (0, False)
    cp.save(dump, 2)
    assert Checkpoint(tmp_path / "state" / "cp.json").lines_done(dump) == (2, False)
    cp.save(dump, 3, finished=True)
    assert Checkpoint(tmp_path / "state" / "cp.json").lines_done(dump) == (3, True)
    write_plain(dump, rows(5))  # rewritten: read again from the start
    assert Checkpoint(tmp_path / "state" / "cp.json").lines_done(dump) == (0, False)


def test_counts_log_the_first_bad_lines_then_count(tmp_path, caplog):
    counts = Counts()
    for i in range(30):
        counts.bad_line(tmp_path / "f", i + 1, "not_json", f"line {i + 1}")
    logged = [r for r in caplog.records if "bad line (" in r.getMessage()]
    assert len(logged) == 20 and counts.bad["not_json"] == 30
    assert counts.summary(2.0)["bad_lines"] == {"not_json": 30}
