"""`REDDIT_SOURCE=archive`: ingest polls the archive simulator for each subreddit's new posts
(every post once, across pages), asks /api/posts/ids for the tracked ones once they are
ARCHIVE_FINAL_AFTER_HOURS old (their final score), and without keys or that option it stops
with one line that names it."""

from __future__ import annotations

from collections import Counter

from streams.records import decode_snapshot
from tests import harness
from tests.archive_support import ArchiveSimulator
from tests.ingest_support import ingest_env, procs, read_topic  # noqa: F401 - fixtures

SUBS = ["alpha", "beta"]


def test_archive_source_new_posts_once_and_the_final_score(ingest_env, procs, tmp_path):
    env = {
        **ingest_env,
        "REDDIT_SOURCE": "archive",
        "REDDIT_CLIENT_ID": "",
        "REDDIT_CLIENT_SECRET": "",
        "ARCHIVE_API_URL": ingest_env["REDDIT_API_URL"],
        "ARCHIVE_REQUESTS_PER_SECOND": "50",
        "ARCHIVE_FINAL_AFTER_HOURS": "0.004",  # 14.4 s: the refresh comes during the test
        "SUBREDDITS": ",".join(SUBS),
        "SIMULATOR_HISTORY_POSTS": "250",  # more than one page of 100
        "SIMULATOR_POSTS_PER_HOUR": "20",
        "SIMULATOR_BURST": "3",
        "INGEST_POLL_SECONDS": "0.5",
    }
    sim = ArchiveSimulator(env, tmp_path, "archive-sim").start()
    try:
        ingest = procs("ingest", env, "ingest-archive")
        topic, refresh = env["TOPIC_POSTS"], env["TOPIC_REFRESH"]

        def expected() -> set[str]:
            return {i for s in SUBS for i in sim.call(f"/_sim/posts?subreddit={s}")["ids"]}

        history = expected()
        harness.wait_for(lambda: {k for k, _ in read_topic(env, topic)} >= history, 60, f"the history\n{ingest.tail()}")
        # the archive's clock moves past FINAL_AFTER (36 h): new posts, and the tracked posts' final scores
        sim.call("/_sim/advance", {"seconds": 37 * 3600})
        harness.wait_for(lambda: {k for k, _ in read_topic(env, topic)} >= expected(), 60, "the new posts")
        # tracked: the posts younger than the final age (14.4 s) when first seen, the newest second's
        created = {}
        mine = [len(sim.requests())]  # the test's own lookups, not ingest's
        ids = sorted(history)
        for i in range(0, len(ids), 500):
            for p in sim.call(f"/api/posts/ids?ids={','.join(ids[i : i + 500])}")["data"]:
                created[p["id"]] = p["created_utc"]
        mine.append(len(sim.requests()))
        newest = max(created.values())
        tracked = {pid for pid, c in created.items() if c >= newest - 60}
        assert len(tracked) == 3 * len(SUBS)
        harness.wait_for(
            lambda: {k for k, _ in read_topic(env, refresh)} >= tracked, 90, f"the final scores\n{ingest.tail()}"
        )
        rounds = len(ingest.events("poll round"))
        harness.wait_for(lambda: len(ingest.events("poll round")) >= rounds + 50, 60, "25 s more")  # 1.7 × 14.4 s
        assert ingest.stop() == 0, ingest.tail()

        news = Counter(k for k, _ in read_topic(env, topic))
        assert set(news) == expected() and {k: n for k, n in news.items() if n > 1} == {}
        refreshed = [decode_snapshot(v) for _, v in read_topic(env, refresh)]
        by_id = Counter(s.id for s in refreshed)
        assert {k: n for k, n in by_id.items() if n > 1} == {}, "a post asked for its final score twice"
        # the refresh carries the archive's final score: what /api/posts/ids answers now
        want = {}
        mine.append(len(sim.requests()))
        for i in range(0, len(ids), 500):
            url = f"/api/posts/ids?ids={','.join(ids[i : i + 500])}"
            for p in sim.call(url)["data"]:
                want[p["id"]] = (p["score"], p["num_comments"])
        mine.append(len(sim.requests()))
        got = {s.id: (s.score, s.num_comments) for s in refreshed if s.id in history}
        assert set(got) == tracked and got == {pid: want[pid] for pid in tracked}
        assert any(score > 1 for score, _ in got.values())
        asked = [
            r
            for r in sim.requests()
            if r["kind"] == "posts/ids" and not (mine[0] <= r["seq"] < mine[1] or mine[2] <= r["seq"] < mine[3])
        ]
        assert asked and all(r["status"] == 200 for r in asked)
        assert all(len(r["query"]["ids"].split(",")) <= 100 for r in asked)
        assert all(s.source == "refresh" for s in refreshed)
    finally:
        sim.kill()


def test_no_keys_and_no_archive_is_one_line(ingest_env, tmp_path):
    env = {**ingest_env, "REDDIT_CLIENT_ID": "", "REDDIT_CLIENT_SECRET": "", "SUBREDDITS": "alpha"}
    proc = harness.faust("ingest", env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "REDDIT_SOURCE=archive" in last and "REDDIT_CLIENT_ID" in last and "Traceback" not in proc.stderr
