"""10,000 fuzzed payloads mixed with valid ones: every bad one is in `dlq_events` with its exact
bytes, every valid one is in `posts` (and exactly once in the history). Half of the bad payloads
that are JSON objects travel as an element of a batch message (a JSON array, as ingest sends
them) among valid snapshots: each is dead-lettered alone, with its own exact bytes and its index,
and the valid elements of its message are processed.

The payloads come from a seeded generator (reproducible: FUZZ_SEED): truncated JSON, invalid
UTF-8, NaN / Infinity, wrong types, deep nesting, huge strings, missing fields, out-of-range
values, non-objects, garbage bytes. Whether a payload is bad is decided by its construction; the
strict decoder (`streams.records.decode_snapshot`) must agree, else the generator (or the
decoder) is wrong and the test says which payload.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time

import orjson
import pytest

from streams.processing.messages import split_array
from streams.records import InvalidMessage, decode_snapshot
from tests import harness
from tests.kafka_tools import produce, read_all

pytestmark = pytest.mark.faults

N_BAD = 10_000
N_GOOD = 2_000
N_GOOD_BATCHED = 1_500  # valid snapshots that travel inside batch messages with bad ones
SEED = int(os.environ.get("FUZZ_SEED", "1313"))
NOW = float(int(time.time()))


def valid(rnd: random.Random, i: int) -> dict:
    t = NOW - 3600 + rnd.random() * 600  # inside RETENTION_DAYS: older history is not written
    return {
        "id": f"v{i:x}",
        "subreddit": rnd.choice(["python", "rust"]),
        "title": f"valid post {i}",
        "selftext": "",
        "author": rnd.choice(["alice", None]),
        "created_utc": t,
        "observed_at": t + 30,
        "score": rnd.randint(0, 10_000),
        "num_comments": rnd.randint(0, 500),
        "upvote_ratio": round(rnd.random(), 3),
        "url": "https://example.org/",
        "permalink": "/r/x/",
        "over_18": False,
        "source": "new",
    }


def bad(rnd: random.Random, i: int) -> tuple[str, bytes]:
    """A payload the decoder must refuse: (category, bytes)."""
    base = valid(rnd, i)
    base["id"] = f"b{i:x}"
    raw = json.dumps(base).encode()
    kind = rnd.choice(
        ["truncated", "utf8", "nan", "type", "nesting", "huge", "missing", "range", "nonobject", "garbage"]
    )
    if kind == "truncated":
        return kind, raw[: rnd.randint(0, len(raw) - 2)]
    if kind == "utf8":
        pos = raw.index(b"valid post")
        junk = rnd.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80\x80", b"\xe2\x82"])
        return kind, raw[:pos] + junk + raw[pos:]
    if kind == "nan":
        field = rnd.choice(["created_utc", "observed_at", "upvote_ratio"])
        lit = rnd.choice(["NaN", "Infinity", "-Infinity"])
        return kind, raw.replace(f'"{field}": {json.dumps(base[field])}'.encode(), f'"{field}": {lit}'.encode())
    if kind == "type":
        field, value = rnd.choice(
            [
                ("score", "12"),
                ("score", 1.5),
                ("score", True),
                ("num_comments", [1]),
                ("title", 123),
                ("id", ["x"]),
                ("over_18", "yes"),
                ("upvote_ratio", "0.5"),
                ("subreddit", {"a": 1}),
                ("observed_at", "now"),
                ("author", 7),
                ("source", 1),
            ]
        )
        base[field] = value
        return kind, json.dumps(base).encode()
    if kind == "nesting":
        depth = rnd.choice([600, 2_000, 50_000])
        if rnd.random() < 0.5:
            return kind, b"[" * depth + b"]" * depth
        base["title"] = "@"
        return kind, json.dumps(base).encode().replace(b'"@"', b"[" * depth + b"]" * depth)
    if kind == "huge":
        base["id"] = "x" * rnd.choice([20, 1_000, 50_000])  # an id is at most 13 base-36 characters
        base["title"] = "y" * rnd.choice([10, 100_000])
        return kind, json.dumps(base).encode()
    if kind == "missing":
        del base[
            rnd.choice(
                ["id", "subreddit", "title", "created_utc", "observed_at", "score", "num_comments", "upvote_ratio"]
            )
        ]
        return kind, json.dumps(base).encode()
    if kind == "range":
        field, value = rnd.choice(
            [
                ("upvote_ratio", 1.5),
                ("upvote_ratio", -0.1),
                ("num_comments", -1),
                ("created_utc", 0),
                ("observed_at", -5),
                ("source", "bogus"),
                ("subreddit", ""),
                ("id", "UPPER"),
                ("id", ""),
            ]
        )
        base[field] = value
        return kind, json.dumps(base).encode()
    if kind == "nonobject":
        return kind, rnd.choice([b"[[]", b"123", b"null", b'"a string"', b"true", b"", b" ", b"{}"])
    return kind, bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))


def is_object(raw: bytes) -> bool:
    """Whether `raw` is a JSON object to the worker's parser (orjson: no NaN, at most 1,024 levels):
    only those can be one element of an array that is itself valid JSON."""
    try:
        return isinstance(orjson.loads(raw), dict)
    except ValueError:
        return False


def test_fuzzed_payloads_dead_lettered_with_exact_bytes(start_worker, worker_env, database):
    rnd = random.Random(SEED)
    items: list[tuple[str, bytes, str]] = []  # (key, value, category or "valid")
    for i in range(N_GOOD):
        items.append((f"v{i:x}", json.dumps(valid(rnd, i)).encode(), "valid"))
    pool = [json.dumps(valid(rnd, N_GOOD + i)).encode() for i in range(N_GOOD_BATCHED)]
    batched: dict[str, list[tuple[bytes, str]]] = {}  # key -> the message's elements (bytes, kind)
    for i in range(N_BAD):
        kind, raw = bad(rnd, i)
        if is_object(raw) and rnd.random() < 0.5:
            elements = [(pool.pop(), "valid") for _ in range(min(rnd.randint(0, 3), len(pool)))]
            elements.insert(rnd.randint(0, len(elements)), (raw, kind))
            batched[f"batch{i:x}"] = elements
        else:
            items.append((f"b{i:x}", raw, kind))
    for e in pool:  # the rest of the valid ones, in batches of their own
        batched.setdefault(f"good{len(batched):x}", []).append((e, "valid"))
    for key, elements in batched.items():
        items.append((key, b"[" + b", ".join(e for e, _ in elements) + b"]", "batch"))
    rnd.shuffle(items)
    # the generator's verdicts are the decoder's
    disagree = []
    singles = [(k, raw, kind) for k, raw, kind in items if kind != "batch"]
    for elements in batched.values():
        singles += [("", raw, kind) for raw, kind in elements]
    for _key, raw, kind in singles:
        try:
            decode_snapshot(raw)
            ok = True
        except InvalidMessage:
            ok = False
        if ok != (kind == "valid"):
            disagree.append((kind, raw[:120]))
    assert not disagree, f"{len(disagree)} payloads the decoder judges otherwise, e.g. {disagree[:5]}"

    w = start_worker("w1", SINK_FLUSH_SECONDS="0.5")
    topic = worker_env["TOPIC_POSTS"]
    produce(worker_env, topic, [(k, v) for k, v, _ in items])
    on_topic = {(r.partition, r.offset): r for r in read_all(worker_env, topic, expect=len(items), timeout=120)}
    assert len(on_topic) == len(items)

    def settled() -> bool:
        dead = harness.query(database, "SELECT count(*) FROM dlq_events")[0][0]
        posts = harness.query(database, "SELECT count(*) FROM posts")[0][0]
        return dead >= N_BAD and posts >= N_GOOD + N_GOOD_BATCHED

    try:
        harness.wait_for(settled, 240, "every dead letter and every valid post in the database", interval=1.0)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{w.tail(30)}") from None

    rows = harness.query(
        database,
        'SELECT source_topic, "partition", "offset", key, payload, payload_encoding, error_type, item FROM dlq_events',
    )
    assert len(rows) == N_BAD, f"{len(rows)} dead letters for {N_BAD} bad payloads"
    # what each dead letter must hold: (partition, offset, item) -> (bytes, key)
    expected: dict[tuple[int, int, int], tuple[bytes, str]] = {}
    for rec in on_topic.values():
        key = rec.key.decode()
        if key in batched:
            for item, (raw, kind) in enumerate(batched[key]):
                if kind != "valid":
                    pid = json.loads(raw).get("id")
                    expected[(rec.partition, rec.offset, item)] = (raw, pid if isinstance(pid, str) else key)
        elif key.startswith("b"):
            try:
                value = orjson.loads(rec.value)
            except ValueError:
                value = None
            if isinstance(value, list):  # a batch (a deep nesting of arrays): each element its own dead letter
                for item, raw in enumerate(split_array(rec.value)):
                    expected[(rec.partition, rec.offset, item)] = (raw, key)
            else:
                expected[(rec.partition, rec.offset, 0)] = (rec.value, key)
    got_all = {}
    for src, part, off, key, payload, enc, error_type, item in rows:
        assert src == topic, f"a dead letter from {src} (item {item}, {error_type}): only the source may fail"
        got_all[(part, off, item)] = (base64.b64decode(payload) if enc == "base64" else payload.encode(), key)
    assert set(got_all) == set(expected)
    mismatched = [
        (where, want[0][:60], got_all[where][0][:60]) for where, want in expected.items() if got_all[where] != want
    ]
    assert not mismatched, f"{len(mismatched)} dead letters without their exact bytes or key, e.g. {mismatched[:3]}"
    assert sum(1 for where in expected if on_topic[where[:2]].key.decode() in batched) > 1000  # inside batches

    posts = {r[0] for r in harness.query(database, "SELECT post_id FROM posts")}
    in_batches = {json.loads(raw)["id"] for els in batched.values() for raw, kind in els if kind == "valid"}
    assert posts == {k for k, _, kind in items if kind == "valid"} | in_batches
    n, distinct = harness.query(
        database, "SELECT count(*), count(DISTINCT (post_id, observed_at)) FROM post_metrics_history"
    )[0]
    assert (n, distinct) == (N_GOOD + N_GOOD_BATCHED, N_GOOD + N_GOOD_BATCHED)
    assert w.alive()
