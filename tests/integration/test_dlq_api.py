"""Dead letters over the API against a real worker: inspection, stats, and replay — a sink-stage
dead letter fixed and replayed lands in `posts`; replay needs the token; replaying twice (or
racing) publishes once; a replay that fails again is attempt 2."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from streams.deadletter import ATTEMPT_HEADER
from tests import harness
from tests.kafka_tools import produce, read_all
from tests.scenario import sink_dead_letter

q = harness.query


pytestmark = pytest.mark.usefixtures("empty_tables")


def call(w: harness.Worker, path: str, method: str = "GET", admin: bool = False) -> tuple[int, dict]:
    status, headers, body = w.request(path, method, admin=admin, body=b"" if method == "POST" else None)
    assert headers.get("Content-Type") == "application/json; charset=utf-8", (path, headers)
    return status, json.loads(body)


def test_a_sink_dead_letter_fixed_and_replayed_lands_in_posts(start_worker, worker_env):
    url = worker_env["DATABASE_URL"]
    w = start_worker()
    sink_dead_letter(worker_env, "fix1")
    status, body = call(w, "/dlq/")
    (letter,) = body["dead_letters"]
    assert status == 200 and letter["source_topic"] == worker_env["TOPIC_OBSERVATIONS"]
    assert letter["error_type"] == "CheckViolation" and letter["attempt"] == 1 and letter["replayed_at"] is None
    assert json.loads(letter["payload"])["snapshot"]["id"] == "fix1" and letter["key"] == "fix1"
    assert q(url, "SELECT count(*) FROM posts") == [(0,)]

    assert call(w, f"/dlq/replay/{letter['id']}/", "POST")[0] == 401
    status, body = call(w, f"/dlq/replay/{letter['id']}/", "POST", admin=True)
    assert (status, body["replayed"]) == (200, 1)
    harness.wait_for(
        lambda: q(url, "SELECT title FROM posts WHERE post_id = 'fix1'") == [("forbidden title",)],
        60,
        "the replayed post in posts",
    )
    status, body = call(w, f"/dlq/replay/{letter['id']}/", "POST", admin=True)  # again: nothing published
    assert (status, body["replayed"]) == (200, 0)
    assert call(w, "/dlq/?replayed=true")[1]["dead_letters"][0]["replayed_at"] is not None
    replays = [
        r
        for r in read_all(worker_env, worker_env["TOPIC_OBSERVATIONS"])
        if dict(r.headers or ()).get(ATTEMPT_HEADER) == b"2"
    ]
    assert len(replays) == 1 and replays[0].key == b"fix1"
    assert q(url, "SELECT count(*) FROM dlq_events") == [(1,)]  # it did not fail again


def test_replay_auth_and_a_replay_that_fails_again(start_worker, worker_env):
    url = worker_env["DATABASE_URL"]
    off = start_worker("off", ADMIN_TOKEN="")
    assert call(off, "/dlq/replay/", "POST", admin=True)[0] == 403
    assert call(off, "/dlq/replay/1/", "POST")[0] == 403
    off.kill()
    w = start_worker()
    status, _, body = w.request("/dlq/replay/", "POST", body=b"")
    assert status == 401
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    try:
        urlopen(Request(w.url + "/dlq/replay/", method="POST", data=b"", headers={"Authorization": "Bearer wrong"}))
        raise AssertionError("a wrong token was accepted")
    except HTTPError as exc:
        assert exc.code == 401 and "error" in json.loads(exc.read())

    raw = b'{"id": "again1", "title": "no subreddit"}'
    produce(worker_env, worker_env["TOPIC_POSTS"], [("again1", raw)])
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM dlq_events")[0][0] == 1, 60, "the dead letter")
    (letter,) = call(w, "/dlq/")[1]["dead_letters"]
    assert letter["payload"] == raw.decode() and letter["error_type"] == "InvalidMessage"
    assert call(w, f"/dlq/replay/{letter['id']}/", "POST", admin=True)[1]["replayed"] == 1
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM dlq_events")[0][0] == 2, 60, "the second failure")
    newest = call(w, "/dlq/?replayed=false")[1]["dead_letters"]
    assert [(d["attempt"], d["payload"], d["key"]) for d in newest] == [(2, raw.decode(), "again1")]


def test_list_filters_pages_stats_and_racing_bulk_replays(start_worker, worker_env):
    url = worker_env["DATABASE_URL"]
    w = start_worker()
    bad = [(f"m{i}", f"not json {i}".encode()) for i in range(120)] + [
        (f"t{i}", json.dumps({"id": f"t{i}"}).encode()) for i in range(30)
    ]
    produce(worker_env, worker_env["TOPIC_POSTS"], bad[:100])
    produce(worker_env, worker_env["TOPIC_REFRESH"], bad[100:])
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM dlq_events")[0][0] == 150, 90, "150 dead letters")

    seen, cursor = [], None
    while True:
        status, body = call(w, "/dlq/?limit=7" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        seen += [d["id"] for d in body["dead_letters"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    want = [r[0] for r in q(url, "SELECT id FROM dlq_events ORDER BY failed_at DESC, id DESC")]
    assert seen == want and len(set(seen)) == 150
    posts_topic, refresh_topic = worker_env["TOPIC_POSTS"], worker_env["TOPIC_REFRESH"]
    body = call(w, f"/dlq/?source_topic={refresh_topic}&limit=200")[1]
    assert len(body["dead_letters"]) == 50 and {d["source_topic"] for d in body["dead_letters"]} == {refresh_topic}
    assert call(w, "/dlq/?error_type=NoSuchError")[1] == {"dead_letters": [], "next_cursor": None}
    assert call(w, "/dlq/stats/") == (
        200,
        {
            "total": 150,
            "not_replayed": 150,
            "by_topic": {posts_topic: 100, refresh_topic: 50},
            "by_error_type": {"InvalidMessage": 150},
        },
    )

    for path, name in (
        ("/dlq/?limit=0", "limit"),
        ("/dlq/?limit=201", "limit"),
        ("/dlq/?limit=abc", "limit"),
        ("/dlq/?replayed=maybe", "replayed"),
        ("/dlq/?cursor=garbage", "cursor"),
        ("/dlq/?source_topic=a%20b", "source_topic"),
        ("/dlq/?error_type=1x", "error_type"),
        ("/dlq/?topic=x", "'topic'"),
        ("/dlq/stats/?x=1", "'x'"),
        # issue 21: a tampered cursor (["dlq",253402300800000000,1]: year 10000) was an OverflowError
        ("/dlq/?cursor=WyJkbHEiLDI1MzQwMjMwMDgwMDAwMDAwMCwxXQ", "cursor"),
        ("/dlq/?cursor=WyJwb3N0cyIsMjUzNDAyMzAwODAwMDAwMDAwLCJhIl0", "cursor"),  # the same on a posts cursor
        ("/dlq/?cursor=WyJkbHEiLDEsOTIyMzM3MjAzNjg1NDc3NTgwOF0", "cursor"),  # an id beyond bigint
        ("/dlq/?source_topic=", "'source_topic' is empty"),
        ("/dlq/?error_type=", "'error_type' is empty"),
        ("/dlq/?replayed=", "'replayed' is empty"),
        ("/dlq/?limit=", "'limit' is empty"),
        ("/dlq/?cursor=", "'cursor' is empty"),
        ("/dlq/?limit=%EF%BC%95", "limit"),  # fullwidth 5
        ("/dlq/?replayed=yes", "replayed"),  # the schema's boolean: true or false
        ("/dlq/?source_topic=posts%0A", "source_topic"),
    ):
        status, body = call(w, path)
        assert status == 400 and name in body["error"], (path, body)
    for path, code, name in (
        ("/dlq/replay/abc/", 400, "id"),
        ("/dlq/replay/-1/", 400, "id"),
        ("/dlq/replay/99999999/", 404, "99999999"),
        ("/dlq/replay/?x=1", 400, "'x'"),
        ("/dlq/replay/0/", 400, "id"),
        ("/dlq/replay/%EF%BC%91/", 400, "id"),  # fullwidth 1
        ("/dlq/replay/%C2%B2/", 400, "id"),  # superscript 2: str.isdigit() says yes, int() says no
        ("/dlq/replay/9223372036854775808/", 400, "id"),  # beyond bigint
        ("/dlq/replay/?source_topic=", 400, "'source_topic' is empty"),
    ):
        status, body = call(w, path, "POST", admin=True)
        assert status == code and name in body["error"], (path, body)

    # two bulk replays racing over the posts topic's 100: each dead letter published once in total
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda _: call(w, f"/dlq/replay/?source_topic={posts_topic}", "POST", admin=True), range(2))
        )
    assert all(s == 200 for s, _ in answers)
    assert sum(b["replayed"] for _, b in answers) == 100
    assert call(w, f"/dlq/replay/?source_topic={posts_topic}", "POST", admin=True)[1]["replayed"] == 0
    republished = [r for r in read_all(worker_env, posts_topic) if dict(r.headers or ()).get(ATTEMPT_HEADER)]
    assert len(republished) == 100 and len({r.key for r in republished}) == 100
    assert q(url, "SELECT count(*) FROM dlq_events WHERE replayed_at IS NOT NULL") == [(100,)]
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM dlq_events WHERE attempt = 2")[0][0] == 100,
        60,
        "the replays failing again, as attempt 2",
    )
    stats = call(w, "/dlq/stats/")[1]
    assert stats["total"] == 250 and stats["not_replayed"] == 150
