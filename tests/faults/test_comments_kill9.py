"""kill -9 of a worker mid-stream of comments, twice: every comment exactly once in `comments`,
each post's count exact in the live table (no comment counted twice after the redelivery) and in
`posts`, whose aggregates equal a recomputation from `comments`.

The comments travel as ingest sends them (streams.ingest.producer: JSON arrays per partition
batch, keyed by post id), paced from a thread; a third of the posts arrive only after their
comments. The killed worker restarts on its data directory (its local RocksDB kept, as after a
crash): the messages it had not acknowledged are consumed again."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter

import pytest

from streams.ingest.producer import BufferedProducer, Record
from tests import harness
from tests.comment_shapes import aggregates_differ
from tests.comment_shapes import snapshot as comment
from tests.faults.support import fault_env
from tests.kafka_tools import produce
from tests.scenario import snapshot as post

pytestmark = [pytest.mark.faults]

N_POSTS = 60
N_COMMENTS = 9000
RATE = 300.0  # comments/s: 30 s of load
KILLS = 2


class CommentLoad:
    """Comments through ingest's own producer at `rate`/s, from a thread."""

    def __init__(self, env: dict, comments: list[dict], rate: float) -> None:
        self.env, self.comments, self.rate = env, comments, rate
        self.errors: list[str] = []
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        producer = BufferedProducer(
            {**harness.kafka(self.env), "acks": "all", "enable_idempotence": True},
            capacity=5000,
            linger=0.05,
        )
        await producer.start()
        try:
            t0 = time.monotonic()
            for i, c in enumerate(self.comments):
                wait = t0 + i / self.rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await producer.put(Record(self.env["TOPIC_COMMENTS"], c["post_id"], json.dumps(c).encode()))
            assert await producer.drain(120), "the comments were not all delivered"
        except Exception as exc:  # noqa: BLE001 - reported by join()
            self.errors.append(repr(exc))
        finally:
            await producer.stop()

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive() and not self.errors, self.errors


def stored(db: str) -> int:
    return harness.query(db, "SELECT count(*) FROM comments")[0][0]


def test_kill9_mid_stream_every_comment_once_and_counts_exact(start_worker, worker_env, database):
    env = fault_env(worker_env)
    w = start_worker("c", **env)
    now = time.time()
    posts = [f"kp{i}" for i in range(N_POSTS)]
    comments = [
        comment(i, posts[i % N_POSTS], sub=["python", "rust"][i % 2], created=now - 3600 + i * 0.3)
        for i in range(N_COMMENTS)
    ]
    early = posts[: 2 * N_POSTS // 3]
    produce(
        worker_env, worker_env["TOPIC_POSTS"], [(p, json.dumps(post(p, now - 3700, 3, 10)).encode()) for p in early]
    )
    load = CommentLoad(worker_env, comments, RATE)
    load.thread.start()
    at_kills = []
    for i in range(KILLS):
        before = stored(database)
        harness.wait_for(lambda before=before: stored(database) >= before + 1500, 120, f"comments before kill {i + 1}")
        at_kills.append(stored(database))
        w.kill()
        w = start_worker("c", **env)  # the same data directory
    assert load.thread.is_alive(), "the load ended before the last kill: the kills were not mid-stream"
    load.join(180)
    produce(worker_env, worker_env["TOPIC_POSTS"], [(p, json.dumps(post(p, now - 60, 3, 10)).encode()) for p in posts])

    harness.wait_for(lambda: stored(database) >= N_COMMENTS, 180, f"every comment stored\n{w.tail(20)}")
    rows = harness.query(database, "SELECT comment_id, post_id FROM comments")
    assert len(rows) == N_COMMENTS and Counter(c for c, _ in rows).most_common(1)[0][1] == 1  # exactly once
    assert {c: p for c, p in rows} == {c["id"]: c["post_id"] for c in comments}
    want = Counter(c["post_id"] for c in comments)
    differ = lambda: aggregates_differ(lambda sql, args: harness.query(database, sql, args), posts)  # noqa: E731
    try:
        harness.wait_for(lambda: not differ(), 60, "the posts' aggregates to equal a recomputation from comments")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {differ()}") from None
    counts = "SELECT post_id, count(*) FROM comments GROUP BY 1"
    assert dict(harness.query(database, counts)) == want
    # the live table: each post's count exact, though the killed worker's messages were consumed again
    for p in posts:
        live = w.get_json(f"/api/posts/{p}/comments/live/")
        assert live["comments_seen"] == want[p], (p, live)
    print(f"comments kill -9 x{KILLS}: rows at the kills {at_kills}; {N_COMMENTS} comments, all exactly once")
