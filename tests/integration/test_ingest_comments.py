"""Live comments: the simulator's `/r/{sub}/comments` (Reddit's shapes) → `faust -A streams ingest`
→ the comments topic (batches keyed by post id) → a worker → `comments`. Every comment once,
across an ingest restart, and its post's comments growing over simulated time."""

from __future__ import annotations

import json
from collections import Counter

from streams.records import comment_fields
from tests import harness
from tests.ingest_support import ingest_env, procs, read_topic  # noqa: F401 - fixtures

SUBS = ["alpha", "beta"]


def test_every_comment_once_across_a_restart_and_stored(ingest_env, procs, start_worker):
    env = {
        **ingest_env,
        "SUBREDDITS": ",".join(SUBS),
        "SIMULATOR_SUBREDDITS": ",".join(SUBS),
        "SIMULATOR_HISTORY_POSTS": "120",
        "INGEST_POLL_SECONDS": "0.5",
        "INGEST_COMMENTS_SECONDS": "0.5",
        "REFRESH_TIERS": "48:3600",
    }
    sim = procs("simulate", env)
    topic = env["TOPIC_COMMENTS"]

    def expected() -> dict[str, str]:
        return {cid: pid for s in SUBS for cid, pid in sim.comments(s).items()}

    def on_topic() -> list[tuple[str, bytes]]:
        return read_topic(env, topic, key_field="post_id")

    first = procs("ingest", env, "ingest-1")
    start = expected()
    assert len(start) > 100, "the simulated history has comments"
    harness.wait_for(lambda: len(on_topic()) >= len(start), 90, f"the comments on the topic\n{first.tail()}")
    sim.call("/_sim/advance", {"subreddit": "*", "seconds": 1800})  # the posts gain comments, new posts come
    grown = expected()
    assert len(grown) > len(start)
    harness.wait_for(lambda: len(on_topic()) >= len(grown), 60, "the new comments on the topic")
    assert first.stop() == 0, first.tail()

    sim.call("/_sim/advance", {"subreddit": "*", "seconds": 600})  # more while ingest is down
    second = procs("ingest", env, "ingest-2")
    harness.wait_for(lambda: len(on_topic()) >= len(expected()), 60, f"the comments after the restart\n{second.tail()}")
    harness.wait_for(lambda: len(second.events("comments round")) >= 3 * len(SUBS), 30, "more comment rounds")
    assert second.stop() == 0, second.tail()

    records = on_topic()
    want = expected()
    ids = Counter(json.loads(v)["id"] for _, v in records)
    assert not {k: n for k, n in ids.items() if n > 1}, "a comment emitted twice"
    assert set(ids) == set(want)
    fields = [comment_fields(json.loads(v)) for _, v in records]
    assert all(f["post_id"] == want[f["id"]] == k for f, (k, _) in zip(fields, records, strict=True))
    gone = [f for f in fields if f["body"] is None]
    assert gone and all(f["author"] is None for f in gone)  # Reddit's [deleted] / [removed] shapes
    assert {f["parent_id"][:3] for f in fields} == {"t1_", "t3_"}
    assert all(f["source"] == "new" and f["subreddit"] in SUBS for f in fields)
    requests = Counter(r["kind"] for r in sim.requests() if r["status"] == 200)
    assert requests["comments"] > 0 and requests["new"] > 0

    w = start_worker()
    url = env["DATABASE_URL"]
    harness.wait_for(
        lambda: harness.query(url, "SELECT count(*) FROM comments")[0][0] == len(want), 90, "every comment stored"
    )
    assert harness.query(url, "SELECT count(*) FROM comments WHERE body IS NULL AND sentiment IS NULL")[0][0] == len(
        gone
    )
    some = next(iter(want.values()))
    assert w.get_json(f"/api/posts/{some}/")["comments_seen"] == sum(1 for p in want.values() if p == some)
