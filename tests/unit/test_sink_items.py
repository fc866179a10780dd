"""An observations message → the sink's items (streams.processing.sink), no broker."""

from __future__ import annotations

from types import SimpleNamespace

import orjson

from streams.processing.sink import items_for
from streams.records import encode_observation, snapshot_fields
from tests.scenario import snapshot

ENRICHMENT = dict(
    sentiment=0.5, score_velocity=1.0, comment_velocity=0.0, trending_score=0.2, is_trending=False, has_velocity=True
)


def message(value: bytes, headers=None):
    return SimpleNamespace(topic="obs", partition=2, offset=41, key=None, value=value, headers=headers)


def observation(pid: str) -> bytes:
    return encode_observation(snapshot_fields(snapshot(pid, 1_800_000_000.0, 3, 1)), **ENRICHMENT)


def test_a_batch_gives_a_row_per_element_and_a_dead_row_with_its_own_bytes():
    bad = b'{ "snapshot" : 5 }'
    value = b"[" + observation("a1") + b", " + bad + b",\n" + observation("b2") + b"]"
    items = items_for(message(value, [("redditstream-attempt", b"2")]), worker="w", now=7.0)
    assert [i.row.post_id if i.row else None for i in items] == ["a1", None, "b2"]
    dead = items[1].dead
    assert dead.payload == bad.decode() and dead.item == 1 and dead.attempt == 2
    assert (dead.source_topic, dead.partition, dead.offset, dead.worker, dead.failed_at) == ("obs", 2, 41, "w", 7.0)
    assert items[2].meta["item"] == 2 and items[2].meta["spans"][2] == observation("b2")


def test_one_observation_and_a_message_that_is_not_json():
    (item,) = items_for(message(observation("c3")), worker="w", now=1.0)
    assert item.row.post_id == "c3" and item.row.sentiment == 0.5
    (dead,) = items_for(message(b"\xffnot json"), worker="w", now=1.0)
    assert dead.row is None and dead.dead.payload_encoding == "base64" and dead.dead.item == 0
    assert orjson.loads(observation("c3"))["snapshot"]["id"] == "c3"
