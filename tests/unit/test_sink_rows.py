"""Pure parts of the sink: row building, dead-letter rows, split policy, backoff, the batcher."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from streams.db.batcher import Batcher
from streams.db.rows import (
    BadObservation,
    dead_row,
    dead_row_from_envelope,
    halves,
    payload_text,
    row_from_json,
    rows_json,
)
from streams.records import Observation, PostSnapshot, encode
from streams.retry import Backoff


def obs(**over) -> Observation:
    snap = PostSnapshot(
        id="abc",
        subreddit="python",
        title="t",
        created_utc=1.0,
        observed_at=2.0,
        score=5,
        num_comments=1,
        upvote_ratio=0.5,
        author=None,
    )
    return Observation(
        snapshot=snap,
        sentiment=0.1,
        score_velocity=1.0,
        comment_velocity=0.0,
        trending_score=0.2,
        is_trending=False,
        has_velocity=over.pop("has_velocity", True),
    )


def test_row_from_observation_json():
    r = row_from_json(encode(obs()))
    assert (r.post_id, r.author, r.observed_at, r.score, r.upvote_ratio, r.has_velocity) == (
        "abc",
        None,
        2.0,
        5,
        0.5,
        True,
    )


def test_rows_json_carries_every_field_by_name_for_json_to_recordset():
    r = row_from_json(encode(obs(has_velocity=False)))
    [doc] = json.loads(rows_json([r]))
    assert doc == r._asdict()  # has_velocity included: the history statement NULLs the velocity on it


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",
        b"[]",
        b'{"snapshot": {}}',
        None,
        json.dumps({**obs().asdict(), "sentiment": "x"}, default=lambda o: o.asdict()),
    ],
)
def test_bad_observations_are_refused(raw):
    with pytest.raises(BadObservation):
        row_from_json(raw)


def test_values_are_left_to_the_database():
    bad = obs()
    bad.snapshot.upvote_ratio = 7.0
    assert row_from_json(encode(bad)).upvote_ratio == 7.0  # PostgreSQL's CHECK decides


def test_payload_kept_as_text_or_base64():
    assert payload_text(b'{"a":1}') == ('{"a":1}', "utf-8")
    assert payload_text(b"\xff\x00")[1] == "base64"
    assert payload_text(b"a\x00b")[1] == "base64"


def test_dead_rows():
    d = dead_row(
        topic="t", partition=1, offset=2, key=b"k", raw=b"x", exc=ValueError("boom"), failed_at=3.0, worker="w"
    )
    assert (d.key, d.error_type, d.error, d.payload) == ("k", "ValueError", "boom", "x")
    env = json.dumps(
        {
            "source_topic": "s",
            "partition": 0,
            "offset": 9,
            "key": None,
            "payload": "p",
            "error_type": "E",
            "error": "e",
            "failed_at": 5.0,
            "attempt": 2,
            "worker": "w",
        }
    )
    assert dead_row_from_envelope(env, topic="dlq", partition=0, offset=1, failed_at=0, worker="x") == (
        "s",
        0,
        9,
        None,
        "p",
        "utf-8",
        "E",
        "e",
        5.0,
        2,
        "w",
        0,
    )
    broken = dead_row_from_envelope(b"{}", topic="dlq", partition=3, offset=4, failed_at=0, worker="x")
    assert (broken.source_topic, broken.offset, broken.error_type) == ("dlq", 4, "MalformedDeadLetter")


def test_halves_cover_everything():
    for n in range(1, 9):
        a, b = halves(list(range(n)))
        assert list(a) + list(b) == list(range(n)) and len(a) >= len(b) and a


def test_backoff_grows_to_the_cap():
    d = Backoff(base=0.5, cap=4, jitter=False).delays()
    assert [next(d) for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    j = Backoff(base=1, cap=8).delays(random.Random(1).random)
    assert all(0.5 <= next(j) <= 8 for _ in range(10))


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_batcher_flushes_on_size_and_age_and_acks_only_after_write():
    async def main():
        clock, written, acked, fail = Clock(), [], [], [2]

        async def write(items):
            if fail[0]:
                fail[0] -= 1
                raise ConnectionError("db down")
            written.append(list(items))

        async def ack(e):
            assert any(e in batch for batch in written), "acked before its write committed"
            acked.append(e)

        retries = []
        b = Batcher(
            write,
            ack,
            batch_size=3,
            flush_seconds=2.0,
            clock=clock,
            backoff=Backoff(base=0.001, cap=0.001),
            on_retry=lambda e, d: retries.append(e),
        )
        await b.add(1, 1)
        await b.add(2, 2)
        assert not b.due() and acked == []
        await b.add(3, 3)  # full: flushes, retrying twice through the failure
        assert written == [[1, 2, 3]] and acked == [1, 2, 3] and len(retries) == 2
        await b.add(4, 4)
        clock.t = 1.9
        assert not b.due()
        clock.t = 2.0
        assert b.due()
        await b.flush()
        assert written[-1] == [4] and acked == [1, 2, 3, 4] and len(b) == 0

    asyncio.run(main())
