"""A source message → its elements, each with its exact bytes (streams.processing.messages),
and ingest's partition batches (streams.ingest.producer.batches_of)."""

from __future__ import annotations

import json
import random

import orjson
import pytest
from aiokafka.partitioner import DefaultPartitioner

from streams.ingest.producer import Record, batches_of, message_value
from streams.processing.messages import Elements, elements, split_array
from streams.records import InvalidMessage
from streams.records import parse_json as parse


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"[ ]",
        b"[1]",
        b'[{"a": [1, 2, {"b": "],[{"}]}, "x\\"y,", null ,true,  -1.5e3 , []]',
        b'  [\n {"id": "q"} ,\n\t{"id": "r", "t": "\\\\"}\n]  ',
        '["ünïcödé, ]", {"k": "😀"}]'.encode(),
    ],
)
def test_split_array_gives_each_elements_exact_bytes(raw):
    parts = split_array(raw)
    assert [orjson.loads(p) for p in parts] == orjson.loads(raw)
    for p in parts:
        assert p in raw  # the bytes as they sit in the message, not a re-encoding
        assert p == p.strip()


def test_split_array_on_random_documents():
    rnd = random.Random(1)

    def value(depth: int):
        kind = rnd.randint(0, 5 if depth < 3 else 3)
        return [
            lambda: rnd.randint(-9, 9),
            lambda: rnd.choice(['a"b', "],[", "{", "\\", "x"]) * rnd.randint(0, 3),
            lambda: None,
            lambda: rnd.random(),
            lambda: [value(depth + 1) for _ in range(rnd.randint(0, 3))],
            lambda: {str(i): value(depth + 1) for i in range(rnd.randint(0, 3))},
        ][kind]()

    for _ in range(300):
        doc = [value(0) for _ in range(rnd.randint(0, 6))]
        raw = json.dumps(doc, indent=rnd.choice([None, 1])).encode()
        assert [json.loads(p) for p in split_array(raw)] == doc


def test_elements_of_an_array_and_of_one_record():
    assert elements(parse(b'[{"a":1},{"b":2}]')) == ([{"a": 1}, {"b": 2}], True)
    assert elements(parse(b'{"a":1}')) == ([{"a": 1}], False)
    single = Elements(b'{"a": 1}', False)
    assert single[0] == b'{"a": 1}'
    many = Elements(b'[{"a": 1},  {"b":2}]', True)
    assert (many[0], many[1]) == (b'{"a": 1}', b'{"b":2}')


@pytest.mark.parametrize("raw", [None, b"", b"not json", b"\xff\xfe", b"[1,"])
def test_a_message_that_is_not_json_is_invalid(raw):
    with pytest.raises(InvalidMessage):
        parse(raw)


def record(pid: str, topic: str = "posts", size: int = 0) -> Record:
    return Record(topic, pid, json.dumps({"id": pid, "pad": "x" * size}).encode())


def test_batches_hold_the_records_of_their_partition_in_order():
    rnd = random.Random(2)
    ids = [f"p{rnd.randrange(36**5):x}" for _ in range(400)]
    records = [record(i, topic=rnd.choice(["posts", "refresh"])) for i in ids + ids[:50]]
    parts = {"posts": list(range(8)), "refresh": list(range(8))}
    batches = batches_of(records, parts, max_records=30, max_bytes=64 * 1024)
    seen = []
    for topic, partition, batch in batches:
        assert 0 < len(batch) <= 30
        for r in batch:
            assert r.topic == topic
            assert DefaultPartitioner()(r.key.encode(), parts[topic], parts[topic]) == partition
        assert [json.loads(e)["id"] for e in split_array(message_value(batch))] == [r.key for r in batch]
        seen += batch
    assert sorted(map(id, seen)) == sorted(map(id, records))  # every record once
    # per (topic, partition), the order they were put in
    for topic in parts:
        for p in range(8):
            want = [
                r for r in records if r.topic == topic and DefaultPartitioner()(r.key.encode(), parts[topic], []) == p
            ]
            got = [r for t, q, b in batches if (t, q) == (topic, p) for r in b]
            assert got == want


def test_batches_are_bounded_in_bytes():
    records = [record(f"k{i}", size=1000) for i in range(50)]
    batches = batches_of(records, {"posts": [0]}, max_records=500, max_bytes=5000)
    assert all(len(message_value(b)) <= 5000 for _, _, b in batches)
    assert sum(len(b) for _, _, b in batches) == 50
    big = batches_of([record("huge", size=9000)], {"posts": [0]}, max_records=500, max_bytes=5000)
    assert [len(b) for _, _, b in big] == [1]  # a record larger than the bound goes alone
