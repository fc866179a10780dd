"""Every simulated post reaches the posts topic exactly once, across an ingest restart."""

from __future__ import annotations

from collections import Counter

from streams.records import decode_snapshot
from tests import harness
from tests.ingest_support import ingest_env, procs, read_topic  # noqa: F401 - fixtures

SUBS = ["alpha", "beta", "gamma"]


def test_every_post_once_and_no_duplicates_after_restart(ingest_env, procs):
    env = {
        **ingest_env,
        "SUBREDDITS": ",".join(SUBS + ["doesnotexist"]),
        "SIMULATOR_SUBREDDITS": ",".join(SUBS),
        "SIMULATOR_HISTORY_POSTS": "140",
        "INGEST_POLL_SECONDS": "0.5",
        "REFRESH_TIERS": "48:3600",
    }
    sim = procs("simulate", env)
    topic = env["TOPIC_POSTS"]

    def on_topic() -> int:
        return len(read_topic(env, topic))

    def expected() -> set[str]:
        return {i for s in SUBS for i in sim.post_ids(s)}

    first = procs("ingest", env, "ingest-1")
    harness.wait_for(lambda: on_topic() >= len(expected()), 60, f"the history on the topic\n{first.tail()}")
    sim.call("/_sim/advance", {"subreddit": "*", "seconds": 600})  # 10 new posts per subreddit
    harness.wait_for(lambda: on_topic() >= len(expected()), 30, "the new posts on the topic")
    assert first.stop() == 0, first.tail()

    sim.call("/_sim/advance", {"subreddit": "*", "seconds": 300})  # 5 more while ingest is down
    second = procs("ingest", env, "ingest-2")
    harness.wait_for(lambda: on_topic() >= len(expected()), 60, f"the posts after the restart\n{second.tail()}")
    # let the restarted ingest poll several more rounds over posts the first one emitted
    harness.wait_for(lambda: len(second.events("poll round")) >= 3 * len(SUBS), 30, "more poll rounds")
    assert second.stop() == 0, second.tail()

    records = read_topic(env, topic)
    keys = Counter(k for k, _ in records)
    dupes = {k: n for k, n in keys.items() if n > 1}
    assert not dupes, f"emitted twice: {dupes}"
    assert set(keys) == expected()
    assert len(records) == len(expected())
    snaps = [decode_snapshot(v) for _, v in records]
    assert all(
        s.source == "new" and s.subreddit in SUBS and s.id == k for s, (k, _) in zip(snaps, records, strict=True)
    )
    assert {s.subreddit for s in snaps} == set(SUBS)

    # the unknown subreddit was asked once per ingest run, then dropped
    bad = [r for r in sim.requests() if r["target"] == "doesnotexist"]
    assert [r["status"] for r in bad] == [404, 404]
    assert len(first.events("poll round")) > 0
