"""1,000 malformed messages among valid ones, and malformed elements inside batch messages
(JSON arrays, as ingest sends them): every malformed one is in the DLQ with its own original
bytes, every valid one is processed, and the worker never restarts."""

from __future__ import annotations

import json
import random
import time

from streams.deadletter import original_bytes
from streams.records import DeadLetter
from tests.kafka_tools import produce, read_all
from tests.scenario import random_posts, wait_exact


def malformed(rnd: random.Random, i: int) -> bytes:
    kind = i % 5
    if kind == 0:  # garbage bytes, not UTF-8
        return bytes([0xFF, 0xFE]) + rnd.randbytes(rnd.randint(1, 40))
    if kind == 1:  # not JSON
        return f"not json {i} {{".encode()
    if kind == 2:  # wrong JSON types
        return json.dumps(
            {
                "id": f"m{i:x}",
                "subreddit": "python",
                "title": 5,
                "created_utc": "yesterday",
                "observed_at": 1.0,
                "score": "high",
                "num_comments": 1,
                "upvote_ratio": 0.5,
            }
        ).encode()
    if kind == 3:  # missing id
        return json.dumps(
            {
                "subreddit": "python",
                "title": "t",
                "created_utc": 1.0,
                "observed_at": 2.0,
                "score": 1,
                "num_comments": 0,
                "upvote_ratio": 0.5,
                "n": i,
            }
        ).encode()
    return json.dumps(f"a string {i}").encode()  # valid JSON, not an object


def test_malformed_messages_go_to_the_dlq_and_valid_ones_are_processed(start_worker, worker_env):
    w = start_worker()
    pid = w.proc.pid
    rnd = random.Random(5)
    script = random_posts(time.time(), 500, 0, seed=9, prefix="v")
    bad = [malformed(rnd, i) for i in range(1000)]
    items: list[tuple[str | None, bytes]] = []
    valid = iter(script.firsts)
    for i, raw in enumerate(bad):  # interleave: two bad, one good
        items.append((f"m{i:x}" if i % 3 else None, raw))
        if i % 2:
            snap = next(valid, None)
            if snap:
                items.append((snap["id"], json.dumps(snap).encode()))
    items += [(s["id"], json.dumps(s).encode()) for s in valid]
    produce(worker_env, worker_env["TOPIC_POSTS"], items)

    wait_exact(w, script.expected(), timeout=120)
    records = read_all(worker_env, worker_env["TOPIC_DLQ"], timeout=60, expect=1000)
    letters = [DeadLetter.from_data(json.loads(r.value)) for r in records]
    assert len(letters) == 1000
    assert sorted(original_bytes(d) for d in letters) == sorted(bad)
    assert {d.source_topic for d in letters} == {worker_env["TOPIC_POSTS"]}
    assert {d.error_type for d in letters} == {"InvalidMessage"}
    assert all(d.offset >= 0 and 0 <= d.partition < 8 and d.worker for d in letters)
    assert len({(d.partition, d.offset) for d in letters}) == 1000

    assert w.metric("redditstream_events_total", outcome="invalid") == 1000
    assert w.metric("redditstream_events_total", outcome="ok") == 500
    assert w.alive() and w.proc.pid == pid
    log = w.log_path.read_text()
    assert "crashed" not in log.lower() and "Traceback" not in log


def test_bad_elements_of_a_batch_are_dead_lettered_alone_with_their_own_bytes(start_worker, worker_env):
    w = start_worker()
    rnd = random.Random(7)
    script = random_posts(time.time(), 300, 0, seed=11, prefix="b")
    firsts = list(script.firsts)
    bad_elements = [malformed(rnd, i) for i in range(2, 200) if i % 5 != 0 and i % 5 != 1]  # valid JSON
    # odd spacing inside the arrays: a dead letter keeps the element's exact bytes, not a re-encoding
    spaced = b'{ "id" : "zz1",\n  "title": "t \\" ] , [ {" }'
    bad_elements.append(spaced)
    messages: list[tuple[str | None, bytes]] = []
    expected_bad: list[tuple[bytes, int]] = []  # (bytes, index in its message)
    good = iter(firsts)
    for bad in bad_elements:
        parts: list[bytes] = []
        for _ in range(rnd.randint(0, 3)):
            snap = next(good, None)
            if snap:
                parts.append(json.dumps(snap).encode())
        at = rnd.randint(0, len(parts))
        parts.insert(at, bad)
        expected_bad.append((bad, at))
        messages.append((None, b"[ " + b" ,\n ".join(parts) + b" ]"))
    messages.append((None, b"[" + b",".join(json.dumps(s).encode() for s in good) + b"]"))
    messages.append((None, b"[]"))  # an empty batch: nothing to do, acknowledged
    produce(worker_env, worker_env["TOPIC_POSTS"], messages)

    wait_exact(w, script.expected(), timeout=120)
    records = read_all(worker_env, worker_env["TOPIC_DLQ"], timeout=60, expect=len(bad_elements))
    letters = [DeadLetter.from_data(json.loads(r.value)) for r in records]
    assert sorted((original_bytes(d), d.item) for d in letters) == sorted(expected_bad)
    assert len({(d.partition, d.offset, d.item) for d in letters}) == len(bad_elements)
    assert w.metric("redditstream_events_total", outcome="invalid") == len(bad_elements)
    assert w.metric("redditstream_events_total", outcome="ok") == 300
    assert w.alive()
