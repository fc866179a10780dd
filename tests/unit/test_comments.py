"""Comments: the record's decoding, the processing over a batch (streams.processing.comments)
against MemoryTable, the sink's rows, ingest's conversion and the dump mapping. No broker."""

from __future__ import annotations

import random

import orjson
import pytest

from streams.analytics import sentiment
from streams.backfill.mapping import BadLine, is_comment
from streams.backfill.mapping import comment_fields as dump_comment
from streams.db.rows import BadObservation, CommentRow, row_from_json
from streams.ingest.convert import to_comment
from streams.processing.comments import RATE_WINDOW_S, CommentConfig, CommentProcessor, summary
from streams.processing.state import MemoryTable
from streams.processing.stats import StatsAccumulator
from streams.records import COMMENT_BODY_LIMIT, InvalidMessage, comment_fields
from tests import dumps
from tests.comment_shapes import snapshot, t1

T0 = 1_800_000_000.0
CONFIG = CommentConfig(sentiment_chars=2000, ids_per_post=1000)


def processor(ids_per_post: int = 1000) -> CommentProcessor:
    return CommentProcessor(CommentConfig(2000, ids_per_post), MemoryTable(), StatsAccumulator())


def entry_of(p: CommentProcessor, post: str, partition: int = 0) -> dict | None:
    raw = p.table.get_many(partition, [post.encode()])[0]
    return None if raw is None else orjson.loads(raw)


# ------------------------------------------------------------------ the record


def test_decoding_drops_prefixes_and_the_bodies_and_authors_that_are_gone():
    deleted = comment_fields({**snapshot(3, "p1"), "id": "t1_k3", "post_id": "t3_p1"})
    assert deleted["id"] == "k3" and deleted["post_id"] == "p1" and deleted["parent_id"] == "t3_p1"
    assert deleted["body"] is None and deleted["author"] is None
    removed = comment_fields(snapshot(7, "p1"))
    assert removed["body"] is None and removed["author"] is None
    live = comment_fields(snapshot(1, "p1"))
    assert live["body"] and live["author"] == "u_1" and live["source"] == "new"
    assert comment_fields({**snapshot(1, "p1"), "body": "x" * 20_000})["body"] == "x" * COMMENT_BODY_LIMIT


@pytest.mark.parametrize(
    "change,fragment",
    [
        ({"post_id": None}, "missing field 'post_id'"),
        ({"parent_id": "t5_abc"}, "parent_id"),
        ({"id": "NOT!"}, "comment id"),
        ({"score": "3"}, "'score' must be int"),
        ({"body": 5}, "'body'"),
        ({"source": "refresh"}, "'source'"),
        ({"created_utc": -1}, "positive"),
    ],
)
def test_a_malformed_comment_is_refused_with_its_reason(change, fragment):
    with pytest.raises(InvalidMessage, match=fragment):
        comment_fields({**snapshot(1, "p1"), **change})


# ------------------------------------------------------------------ the processing


def test_sentiment_once_per_comment_id_and_counts_exact_under_redelivery():
    p = processor()
    batch = [comment_fields(snapshot(i, "p1", created=T0 + i)) for i in range(12)]
    first = p.live(batch, 0)
    again = p.live(batch, 0)  # a redelivery after a crash: the same comments
    assert first.observations == again.observations  # the same rows go to the sink again (idempotent there)
    assert again.changes == {}  # nothing counted twice
    e = entry_of(p, "p1")
    gone = {3, 7}  # i % 11: a deleted and a removed body
    with_body = [i for i in range(12) if i not in gone]
    assert e["n"] == 12 and e["ns"] == len(with_body)
    want = [sentiment.compound(snapshot(i, "p1")["body"]) for i in with_body]
    assert e["ss"] == pytest.approx(sum(want))
    rows = [orjson.loads(o) for o in first.observations]
    assert [r["sentiment"] for r in rows if r["comment"]["body"] is None] == [None, None]
    s = summary(e)
    assert s["comments_seen"] == 12 and s["mean_sentiment"] == pytest.approx(sum(want) / len(want))
    assert s["last_comment_at"] == T0 + 11


def test_vader_runs_once_per_comment_id(monkeypatch):
    calls = []
    p = processor()
    real = p.compound
    monkeypatch.setattr(p, "compound", lambda body: calls.append(body) or real(body))
    batch = [comment_fields(snapshot(i, "p1")) for i in range(5)]
    p.live(batch, 0)
    p.live(batch[:3], 0)
    assert len(calls) == 5


def test_the_body_is_scored_on_its_first_sentiment_chars():
    p = CommentProcessor(CommentConfig(10, 100), MemoryTable(), StatsAccumulator())
    c = comment_fields({**snapshot(1, "p1"), "body": "ok ok ok. I love it, wonderful, great!"})
    (obs,) = p.live([c], 0).observations
    assert orjson.loads(obs)["sentiment"] == sentiment.compound("ok ok ok. ")


def test_any_order_and_any_batching_give_the_same_entries():
    comments = [comment_fields(snapshot(i, f"p{i % 3}", created=T0 + 37 * i)) for i in range(60)]
    ordered = processor()
    ordered.live(comments, 0)
    shuffled = processor()
    mixed = comments[:]
    random.Random(5).shuffle(mixed)
    for i in range(0, len(mixed), 7):
        shuffled.live(mixed[i : i + 7] + mixed[max(0, i - 3) : i], 0)  # overlapping: redeliveries
    for post in ("p0", "p1", "p2"):
        a, b = entry_of(shuffled, post), entry_of(ordered, post)
        assert a["ss"] == pytest.approx(b["ss"])  # a float sum: its order may move the last bits
        assert {**a, "ss": 0} == {**b, "ss": 0}  # counts, the rate window, the ids: exactly


def test_comments_per_minute_over_the_window_before_the_newest_comment():
    p = processor()
    # 30 comments in the last 5 minutes before the newest, 20 more long before
    old = [comment_fields(snapshot(i, "p1", created=T0 + i)) for i in range(20)]
    recent = [comment_fields(snapshot(100 + i, "p1", created=T0 + 7200 + 10 * i)) for i in range(30)]
    p.live(recent + old, 0)
    s = summary(entry_of(p, "p1"))
    assert s["comments_seen"] == 50
    assert s["comments_per_minute"] == pytest.approx(30 / (RATE_WINDOW_S / 60))


def test_a_malformed_element_fails_alone_and_leaves_no_trace(monkeypatch):
    p = processor()
    batch = [comment_fields(snapshot(i, "p1")) for i in range(3)]
    batch[1] = {**batch[1], "body": object()}  # not JSON-serialisable, not a str: fails mid-processing
    monkeypatch.setattr(p, "compound", lambda body: 0.0)
    result = p.live(batch, 0)
    assert [i for i, _ in result.failed] == [1]
    assert len(result.observations) == 2 and entry_of(p, "p1")["n"] == 2


def test_beyond_the_remembered_ids_a_post_keeps_counting():
    p = processor(ids_per_post=3)
    p.live([comment_fields(snapshot(i, "p1")) for i in range(5)], 0)
    e = entry_of(p, "p1")
    assert e["n"] == 5 and len(e["ids"]) == 3


def test_new_comments_go_to_the_subreddit_sums_but_not_the_backfills_nor_duplicates():
    p = processor()
    live = [comment_fields(snapshot(i, "p1", sub="python", created=T0)) for i in range(4)]
    p.live(live, 0)
    p.live(live, 0)
    p.live([comment_fields(snapshot(50, "p2", sub="python", source="backfill"))], 0)
    (delta,) = p.stats.drain()
    assert delta.comments == 4 and delta.comment_sentiments == 4 - 1  # i == 3: deleted, no sentiment
    assert delta.posts == 0 and delta.observations == 0


# ------------------------------------------------------------------ the sink's rows


def test_a_comment_observation_is_a_comment_row():
    p = processor()
    (obs,) = p.live([comment_fields(snapshot(1, "p1", parent="t1_k0"))], 0).observations
    row = row_from_json(obs)
    assert isinstance(row, CommentRow)
    assert row.comment_id == "k1" and row.post_id == "p1" and row.parent_id == "t1_k0"
    assert row.sentiment == orjson.loads(obs)["sentiment"]
    with pytest.raises(BadObservation, match="sentiment"):
        row_from_json(orjson.dumps({"comment": snapshot(1, "p1"), "sentiment": 3}))
    with pytest.raises(BadObservation, match="missing field"):
        row_from_json(orjson.dumps({"comment": {"id": "x"}, "sentiment": None}))


# ------------------------------------------------------------------ ingest and the dumps


def test_ingest_converts_the_api_shape_and_asyncpraws_objects():
    class Sub:
        display_name = "python"

    raw = t1(3, "p9", created=T0)  # deleted
    fields = comment_fields(to_comment(raw, T0 + 1, 100))
    assert fields["author"] is None and fields["body"] is None and fields["post_id"] == "p9"

    class Comment:  # as asyncpraw objectifies a t1: author None for [deleted], subreddit an object
        def __init__(self, data: dict) -> None:
            self.__dict__.update(data)
            self.author = None if data["author"] == "[deleted]" else data["author"]
            self.subreddit = Sub()

    fields = comment_fields(to_comment(Comment(t1(1, "p9", created=T0)), T0 + 1, 10))
    assert fields["subreddit"] == "python" and fields["author"] == "u_1" and len(fields["body"]) <= 10
    assert fields["observed_at"] == T0 + 1 and fields["source"] == "new"


@pytest.mark.parametrize("generation", ["old", "new"])
def test_dump_comments_of_both_generations_map_to_the_documented_fields(generation):
    for i in range(14):
        line = dumps.comment(
            i, generation=generation, sub="python", created=T0 + i, post="p1", parent=None if i % 2 else "t1_c0"
        )
        assert is_comment(line)
        got = dump_comment(line, 10_000)
        assert got == dumps.expected_comment(line)
        assert comment_fields(got) == got  # what the worker's decoder accepts unchanged
    assert not is_comment(dumps.submission(1, generation=generation, sub="python", created=T0))


def test_a_bad_dump_comment_is_a_bad_line():
    line = dumps.comment(1, generation="new", sub="python", created=T0, post="p1")
    with pytest.raises(BadLine, match="bad_id"):
        dump_comment({**line, "link_id": "t3_BAD!"}, 100)
    with pytest.raises(BadLine) as exc:
        dump_comment({k: v for k, v in line.items() if k != "created_utc"}, 100)
    assert exc.value.reason == "missing_created_utc"
