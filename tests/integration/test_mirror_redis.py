"""tables.mirror.RedisMirror against a real Redis: one scripted command per flush writes every
post's hash and its expiry, and a Redis that lost its scripts (a restart) is served again."""

import time

import pytest
import redis as redis_lib
import redis.asyncio as aioredis

from tables.mirror import RedisMirror

pytestmark = pytest.mark.integration
TTL = 3600.0


def state(score: int, at: float) -> dict:
    return {"score": score, "comments": 2, "observed_at": at, "score_velocity": 1.5, "comment_velocity": -0.25}


async def test_a_flush_writes_every_pending_hash_with_its_expiry_in_one_round_trip(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    check = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    try:
        mirror = RedisMirror(client, TTL)
        now = time.time()
        for i in range(250):
            mirror.put(f"m{i}", state(i, now - i))
        mirror.put("m7", state(700, now))  # coalesced: the last state wins
        assert await mirror.flush_once() == 250 and mirror.round_trips == 1 and not mirror.pending
        assert check.hgetall("vel:m7") == {
            "score": "700",
            "comments": "2",
            "ts": repr(now),
            "score_velocity": "1.5",
            "comment_velocity": "-0.25",
        }
        assert check.hget("vel:m249", "score") == "249"
        assert check.expiretime("vel:m249") == int(now - 249 + TTL)
        check.script_flush()  # as after a Redis restart
        mirror.put("m1", state(11, now))
        assert await mirror.flush_once() == 1
        assert check.hget("vel:m1", "score") == "11"
    finally:
        await client.aclose()
        check.close()
