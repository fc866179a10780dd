"""Velocity over scripted snapshots equals the formula: from the table (web view) and Redis."""

from __future__ import annotations

import time

import redis

from tests import harness
from tests.scenario import Script, matches, random_posts, scripted, send, wait_exact, wipe


def test_scripted_velocity_in_table_and_redis(start_worker, worker_env, redis_url):
    w = start_worker(REDIS_URL=redis_url)
    script = scripted(time.time())
    send(worker_env, worker_env["TOPIC_POSTS"], script.firsts)
    wait_exact(w, Script(firsts=script.firsts).expected())
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes)
    expected = script.expected()
    wait_exact(w, expected)

    # spot-check the formula by hand for two posts
    inorder = w.get_json("/api/posts/inorder1/velocity/")
    assert inorder["score_velocity"] == (100 - 130) / 2.0 and inorder["comment_velocity"] == 1.0
    ttl = w.get_json("/api/posts/afterttl/velocity/")
    assert ttl["score_velocity"] == 60.0 and ttl["comment_velocity"] == 3.0
    ooo = w.get_json("/api/posts/outoforder/velocity/")
    assert ooo["score"] == 45 and ooo["score_velocity"] == 40 / 4.0

    r = redis.Redis.from_url(redis_url, decode_responses=True)

    def mirrored() -> bool:
        return all(
            matches(
                r.hgetall(f"vel:{pid}")
                or {"score": -1, "comments": -1, "ts": 0, "score_velocity": 0, "comment_velocity": 0},
                want,
            )
            for pid, want in expected.items()
        )

    harness.wait_for(mirrored, 30, "the Redis mirror to match the table")
    for pid in expected:
        assert 0 < r.ttl(f"vel:{pid}") <= 25 * 3600 + 60
    assert w.metric("redditstream_redis_mirror_pending") == 0


def test_worker_without_its_data_dir_restores_tables_from_changelog(start_worker, worker_env, tmp_path):
    script = random_posts(time.time(), 150, 3, seed=11)
    w1 = start_worker("first")
    send(worker_env, worker_env["TOPIC_POSTS"], script.firsts)
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes)
    expected = script.expected()
    wait_exact(w1, expected)
    w1.stop()
    wipe(w1.env["DATA_DIR"])
    w2 = start_worker("second", DATA_DIR=w1.env["DATA_DIR"], WEB_PORT=w1.env["WEB_PORT"])
    assert w2.get_json("/ready/")["kafka"]["tables_recovered"] is True
    wait_exact(w2, expected, timeout=30)
