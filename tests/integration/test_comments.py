"""Comments end to end on the real broker, PostgreSQL and Redis: batches as ingest sends them
(streams.ingest.producer: one JSON array per partition batch, keyed by the POST id), a single
object, redeliveries, malformed elements → a worker → `comments`, the posts' aggregates, the live
table, the subreddit windows and the API."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict

from streams.analytics import sentiment
from streams.deadletter import original_bytes
from streams.ingest.producer import BufferedProducer, Record
from streams.records import DeadLetter
from tests import harness
from tests.comment_shapes import aggregates_differ
from tests.comment_shapes import snapshot as comment
from tests.kafka_tools import produce, read_all
from tests.scenario import snapshot as post


def send_batched(env: dict, topic: str, records: list[tuple[str, bytes]]) -> int:
    """Through ingest's own producer: batches per partition of the post id's murmur2 hash."""

    async def run() -> int:
        producer = BufferedProducer({**harness.kafka(env), "acks": "all"}, capacity=10_000)
        await producer.start()
        try:
            for key, value in records:
                await producer.put(Record(topic, key, value))
            assert await producer.drain(60)
            return producer.messages
        finally:
            await producer.stop()

    return asyncio.run(run())


def wait_rows(url: str, sql: str, want, timeout: float = 90):
    last = []

    def ok() -> bool:
        nonlocal last
        last = harness.query(url, sql)
        return last == want

    try:
        harness.wait_for(ok, timeout, sql)
    except AssertionError:
        raise AssertionError(f"{sql}: {last!r} != {want!r}") from None


def test_comments_stored_once_scored_counted_and_served(start_worker, worker_env, database):
    w = start_worker()
    now = time.time()
    posts = [f"cp{i}" for i in range(6)]  # cp4 and cp5: their comments come first, the posts later
    comments = []
    for i in range(240):
        pid = posts[i % 6]
        parent = f"t3_{pid}" if i < 12 else f"t1_k{i - 6:x}"  # replies to earlier comments of the same post
        comments.append(comment(i, pid, sub="python", created=now - 1800 + i * 5, observed=now, parent=parent))
    for pid in posts[:4]:
        produce(worker_env, worker_env["TOPIC_POSTS"], [(pid, json.dumps(post(pid, now - 60, 5, 40)).encode())])
    messages = send_batched(
        worker_env, worker_env["TOPIC_COMMENTS"], [(c["post_id"], json.dumps(c).encode()) for c in comments]
    )
    assert messages < len(comments)  # batched
    # a redelivery of everything, one object per message (any producer may), and malformed ones
    single = [(c["post_id"], json.dumps(c).encode()) for c in comments[:40]]
    bad_element = b'{"id":"zz1","post_id":"cp0","subreddit":"python"}'
    mixed = b"[" + json.dumps(comments[0]).encode() + b"," + bad_element + b"]"
    produce(worker_env, worker_env["TOPIC_COMMENTS"], [*single, ("cp0", mixed), ("cp1", b"not json {")])

    url = database
    wait_rows(url, "SELECT count(*), count(DISTINCT comment_id) FROM comments", [(240, 240)])
    # the DLQ: the bad element with its own exact bytes and index, the bad message whole
    letters = [
        DeadLetter.from_data(json.loads(r.value)) for r in read_all(worker_env, worker_env["TOPIC_DLQ"], expect=2)
    ]
    assert sorted(original_bytes(d) for d in letters) == sorted([bad_element, b"not json {"])
    assert {(d.key, d.item) for d in letters if original_bytes(d) == bad_element} == {("cp0", 1)}

    # what is stored is what the comments were: bodies and authors gone where Reddit says so
    stored = {
        r[0]: r[1:]
        for r in harness.query(url, "SELECT comment_id, post_id, parent_id, author, body, sentiment FROM comments")
    }
    for c in comments:
        post_id, parent, author, body, compound = stored[c["id"]]
        gone = c["body"] in ("[deleted]", "[removed]")
        assert (post_id, parent) == (c["post_id"], c["parent_id"])
        assert body == (None if gone else c["body"]) and (author is None) == (c["author"] == "[deleted]")
        assert compound == (None if gone else sentiment.compound(c["body"]))

    # the posts' aggregates: a recomputation of `comments`, also for the posts that came after their comments
    for pid in posts[4:]:
        produce(worker_env, worker_env["TOPIC_POSTS"], [(pid, json.dumps(post(pid, now - 30, 5, 40)).encode())])
    per_post = defaultdict(list)
    for c in comments:
        per_post[c["post_id"]].append(
            None if c["body"] in ("[deleted]", "[removed]") else sentiment.compound(c["body"])
        )
    differ = lambda: aggregates_differ(lambda sql, args: harness.query(url, sql, args), posts)  # noqa: E731
    harness.wait_for(lambda: not differ(), 60, "the posts' aggregates to equal a recomputation")
    assert harness.query(url, "SELECT post_id, comments_seen FROM posts ORDER BY 1") == [(p, 40) for p in posts]

    # the live table: exact counts despite the redelivery, and the mean without the removed bodies
    for pid, scores in per_post.items():
        live = w.get_json(f"/api/posts/{pid}/comments/live/")
        with_body = [s for s in scores if s is not None]
        assert live["comments_seen"] == 40
        assert abs(live["mean_sentiment"] - sum(with_body) / len(with_body)) < 1e-9
        assert live["comments_per_minute"] > 0 and live["last_comment_at"].endswith("Z")

    # the API: a post's comments newest first, page by page, none twice; a tampered cursor is a 400
    seen, cursor = [], None
    while True:
        page = w.get_json("/api/posts/cp4/comments/?limit=7" + (f"&cursor={cursor}" if cursor else ""))
        seen += page["comments"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [c["comment_id"] for c in seen] == [c["id"] for c in reversed(comments) if c["post_id"] == "cp4"]
    assert set(seen[0]) == {
        "comment_id", "post_id", "parent_id", "subreddit", "author", "body", "score", "created_utc", "sentiment"
    }  # fmt: skip
    status, _, body = w.request("/api/posts/cp4/comments/?cursor=" + "x" * 20)
    assert status == 400 and "cursor" in json.loads(body)["error"]
    assert w.get_json("/api/posts/nopost/comments/") == {"comments": [], "next_cursor": None}
    detail = w.get_json("/api/posts/cp4/")
    assert detail["comments_seen"] == 40 and sum(m["comments"] for m in detail["comment_history"]) == 40
    stats = w.get_json("/api/stats/")
    assert stats["comments_last_24h"] == 240 and -1 <= stats["avg_comment_sentiment_24h"] <= 1
    # the subreddit's window: each comment counted once, the redelivered ones too
    harness.wait_for(
        lambda: w.get_json("/api/subreddits/python/stats/")["hour"]["comments"] == 240, 30, "the hour window"
    )
