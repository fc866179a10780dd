"""`faust -A streams backfill --archive` against the archive simulator: every post of a
subreddit exactly once across page borders whether `after` is inclusive or not (with many
posts in one second, more than a page), the selection exact, the archive's failures survived,
`kill -9` then `--resume`, bad records counted by reason, bad arguments a one-line error."""

from __future__ import annotations

import collections
import json
import time
from datetime import UTC, datetime

import pytest

from tests import harness
from tests.archive_support import (  # noqa: F401 - fixtures
    ArchiveSimulator,
    archive_env,
    archive_post,
    archive_sim,
    backfill,
    bad_records,
)
from tests.dumps import SELECTION, SELECTION_START, comment, expected, expected_comment, selected
from tests.ingest_support import read_topic

q = harness.query
pytestmark = pytest.mark.usefixtures("empty_tables")
DAY = 86400


def crowded(sub: str, start: int, prefix: str) -> list[dict]:
    """400 posts over 60 seconds, 1 to 25 in a second: many seconds hold more than a page (10)."""
    posts, i, second = [], 0, start
    while i < 400:
        for _ in range(min(1 + (second * 7) % 25, 400 - i)):
            posts.append(archive_post(i, sub, second, prefix=prefix))
            i += 1
        second += 3 if second % 2 else 1
    return posts


def topic_ids(env: dict[str, str]) -> collections.Counter:
    return collections.Counter(pid for pid, _ in read_topic(env, env["TOPIC_BACKFILL"]))


@pytest.mark.parametrize("inclusive", [False, True], ids=["after-exclusive", "after-inclusive"])
def test_every_post_once_across_page_borders(archive_env, archive_sim, tmp_path, inclusive):
    archive_sim.configure(after_inclusive=inclusive, auto_limit=100)
    start = int(time.time()) - 10 * DAY
    posts = crowded("python", start, "p")
    bad = bad_records("python", start + 5)
    archive_sim.add(posts[:200] + [b for b, _ in bad] + posts[200:])
    env = {**archive_env, "ARCHIVE_PAGE_LIMIT": "10"}
    summary = backfill(env, tmp_path, "--subreddits", "python", "--since", str(start))
    assert summary["posts_matched"] == summary["produced"] == 400
    assert summary["lines_read"] == 400 + len(bad)
    assert summary["bad_lines"] == dict(collections.Counter(reason for _, reason in bad))
    assert summary["subreddits"]["python"]["status"] == "done" and summary["skipped_subreddits"] == []
    assert summary["overflow_seconds"] == 0
    got = topic_ids(env)
    assert got == collections.Counter({p["id"]: 1 for p in posts}), "every post exactly once on the topic"
    # the pages crossed borders inside seconds, and seconds fuller than a page were asked with limit=auto
    queries = [r["query"] for r in archive_sim.requests() if r["kind"] == "posts/search"]
    assert any(qr["limit"] == "auto" for qr in queries) and sum(qr["limit"] == "10" for qr in queries) > 5


def test_posts_land_in_postgres_with_exact_fields(start_worker, archive_env, archive_sim, tmp_path):
    start_worker()
    start = int(time.time()) - 5 * DAY
    posts = [archive_post(i, ["python", "Rust"][i % 2], start + i // 3) for i in range(300)]
    archive_sim.add(posts)
    summary = backfill(archive_env, tmp_path, "--subreddits", "python,rust", "--since", str(start))
    assert summary["produced"] == 300
    url = archive_env["DATABASE_URL"]
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM posts")[0][0] == 300, 120, "300 posts")
    rows = {
        r[0]: r[1:]
        for r in q(
            url,
            "SELECT post_id, subreddit, title, author, extract(epoch FROM created_utc)::float8, "
            "extract(epoch FROM last_observed_at)::float8, score, num_comments, upvote_ratio, url, permalink, over_18 "
            "FROM posts",
        )
    }
    for post in posts:
        w = expected(post)
        assert rows[w["id"]] == (
            w["subreddit"],
            w["title"],
            w["author"],
            w["created_utc"],
            w["observed_at"],  # retrieved_on
            w["score"],
            w["num_comments"],
            pytest.approx(w["upvote_ratio"]),
            w["url"],
            w["permalink"],
            w["over_18"],
        ), w["id"]


@pytest.mark.parametrize("inclusive", [False, True], ids=["after-exclusive", "after-inclusive"])
def test_comments_land_in_postgres_once_with_their_posts_aggregates(
    start_worker, archive_env, archive_sim, tmp_path, inclusive
):
    """`--comments`: every comment once across page borders (up to 12 in one second, pages of
    10), keyed by its post (so with its post's state), exact fields, and each post's aggregates
    a count of its comments, whether the post comes before or after them."""
    archive_sim.configure(after_inclusive=inclusive, auto_limit=100)
    start = int(time.time()) - 3 * DAY
    posts = [archive_post(i, "python", start + i, prefix="k") for i in range(6)]
    comments = []
    for i in range(240):
        line = comment(i, generation="new", sub="python", created=start + 600 + i // 12, post=posts[i % 6]["id"])
        comments.append({**line, "created_utc": int(line["created_utc"])})
    archive_sim.add(comments, kind="comments")
    archive_sim.add(posts[:3])  # the other three posts come after their comments
    w = start_worker()
    env = {**archive_env, "ARCHIVE_PAGE_LIMIT": "10"}
    summary = backfill(env, tmp_path, "--comments", "--subreddits", "python", "--since", str(start))
    assert summary["comments_matched"] == summary["produced"] == 240, summary
    on_topic = collections.Counter(json.loads(v)["id"] for _, v in read_topic(env, env["TOPIC_COMMENTS"], "post_id"))
    assert on_topic == collections.Counter({c["id"]: 1 for c in comments}), "every comment once on its topic"
    url = archive_env["DATABASE_URL"]
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM comments")[0][0] == 240, 120, "240 comments")
    rows = {
        r[0]: r[1:]
        for r in q(
            url,
            "SELECT comment_id, post_id, parent_id, subreddit, author, body, score, "
            "extract(epoch FROM created_utc)::float8 FROM comments",
        )
    }
    for line in comments:
        e = expected_comment(line, int(archive_env.get("COMMENT_BODY_MAX_CHARS", "10000")))
        got = rows[e["id"]]
        assert got[:5] == (e["post_id"], e["parent_id"], e["subreddit"], e["author"], e["body"]), e["id"]
        assert got[5:] == (e["score"], e["created_utc"]), e["id"]
    archive_sim.add(posts[3:])
    summary = backfill(archive_env, tmp_path, "--subreddits", "python", "--since", str(start))
    assert summary["posts_matched"] == 6
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM posts WHERE comments_seen = 40")[0][0] == 6,
        120,
        f"every post's comments_seen = 40\n{w.tail()}",
    )


def test_selection_is_exact(archive_env, archive_sim, tmp_path):
    t0 = int(SELECTION_START)
    posts = [archive_post(i, ["python", "Rust", "golang"][i % 3], t0 + i * 3600, prefix="f") for i in range(240)]
    archive_sim.add(posts)
    summary = backfill(archive_env, tmp_path, *SELECTION)
    lo, hi = datetime(2026, 10, 3, tzinfo=UTC).timestamp(), datetime(2026, 10, 5, 12, tzinfo=UTC).timestamp()
    want = selected(posts)
    assert len(want) == 40 and summary["posts_matched"] == 40
    assert topic_ids(archive_env) == collections.Counter({pid: 1 for pid in want})
    # a post exactly at --until is not taken, one exactly at --since is
    edge = [archive_post(900, "python", int(lo), prefix="e"), archive_post(901, "python", int(hi), prefix="e")]
    archive_sim.add(edge)
    dry = backfill(archive_env, tmp_path, "--subreddits", "python", "--since", str(lo), "--until", str(hi), "--dry-run")
    assert dry["produced"] == 0 and dry["posts_matched"] == 20 + 1


def test_failures_survived_and_reported(archive_env, archive_sim, tmp_path):
    start = int(time.time()) - 3 * DAY
    subs = ["python", "rust", "golang", "haskell"]
    posts = [archive_post(i, subs[i % 4], start + i, prefix="x") for i in range(800)]
    archive_sim.add(posts)
    env = {**archive_env, "ARCHIVE_PAGE_LIMIT": "25", "ARCHIVE_RETRY_ATTEMPTS": "4"}
    # python: every kind of transient failure, in turn; a slow answer (2 s > the 1 s timeout)
    archive_sim.faults("python", [429, "ok", 503, "throttle", "ok", 500, "query_timeout", "ok", 502, 429], reset=2)
    archive_sim.faults("rust", [], latency=2.0)
    archive_sim.faults("golang", ["client_error"])  # a real client error: not retried, skipped
    archive_sim.faults("haskell", [503, 503, 503, 503])  # fails every attempt: skipped
    t0 = time.time()
    summary = backfill(env, tmp_path, "--subreddits", ",".join(subs), "--since", str(start), code=3)
    assert summary["skipped_subreddits"] == ["rust", "golang", "haskell"]
    assert summary["subreddits"]["golang"]["reason"] == "client_error"
    assert summary["subreddits"]["rust"]["reason"] == summary["subreddits"]["haskell"]["reason"] == "gave_up"
    assert summary["subreddits"]["python"]["status"] == "done"
    assert topic_ids(env) == collections.Counter({p["id"]: 1 for p in posts if p["subreddit"] == "python"})
    log = archive_sim.requests()
    golang = [r for r in log if r["target"] == "golang"]
    assert [r["status"] for r in golang] == [422], "a real client error is asked once"
    assert sum(r["target"] == "haskell" for r in log) == 4
    outcomes = summary["request_outcomes"]
    assert outcomes["rate_limited"] == 2 and outcomes["throttled"] == 2 and outcomes["server_error"] >= 3 + 4
    assert outcomes["timeout"] == 4  # rust's four attempts
    # after each 429 (X-RateLimit-Reset: 2) the next request waited for the reset
    python = [r for r in log if r["target"] == "python"]
    for a, b in zip(python, python[1:], strict=False):
        if a["status"] == 429:
            assert b["t"] - a["t"] >= 1.9, (a, b)
    assert time.time() - t0 < 120
    # then the archive recovers: --resume finishes what was skipped, python is not read again
    archive_sim.call("/_sim/faults", method="DELETE")
    again = backfill(env, tmp_path, "--subreddits", ",".join(subs), "--since", str(start), "--resume")
    assert again["skipped_subreddits"] == [] and again["produced"] == 600
    assert topic_ids(env) == collections.Counter({p["id"]: 1 for p in posts})


def test_the_rate_limit_headers_are_honoured(archive_env, tmp_path):
    # a budget of 5 requests per 2 s window: the client waits for the reset once 1 is left,
    # so the archive never has to answer 429
    env = {**archive_env, "SIMULATOR_RATELIMIT_BUDGET": "5", "SIMULATOR_RATELIMIT_WINDOW": "2"}
    sim = ArchiveSimulator(env, tmp_path, "budget-sim").start()
    try:
        start = int(time.time()) - DAY
        sim.add([archive_post(i, "python", start + i, prefix="h") for i in range(300)])
        summary = backfill(
            {**env, "ARCHIVE_PAGE_LIMIT": "20"}, tmp_path, "--subreddits", "python", "--since", str(start)
        )
        assert summary["produced"] == 300 and summary["request_outcomes"] == {"ok": summary["requests"]}
        statuses = [r["status"] for r in sim.requests()]
        assert statuses and set(statuses) == {200} and len(statuses) >= 16
    finally:
        sim.kill()


def test_resume_after_kill_9(start_worker, archive_env, tmp_path):
    n = 20_000
    env = {
        **archive_env,
        "SIMULATOR_SUBREDDITS": "big",
        "SIMULATOR_HISTORY_POSTS": str(n),
        "SIMULATOR_POSTS_PER_HOUR": "7200",
        "SIMULATOR_BURST": "4",
        "ARCHIVE_REQUESTS_PER_SECOND": "15",
        "ARCHIVE_CHECKPOINT": str(tmp_path / "archive-cp.json"),
        "INGEST_BUFFER_RECORDS": "500",
        "PRODUCER_LINGER_MS": "100",
    }
    sim = ArchiveSimulator(env, tmp_path, "big-sim").start()
    try:
        ids = sim.call("/_sim/posts?subreddit=big")["ids"]
        assert len(ids) >= n
        start_worker()
        since = "2000-01-01"
        proc = harness.Process(
            env=env,
            name="archive-killed",
            workdir=tmp_path,
            args=("backfill", "--archive", "--subreddits", "big", "--since", since, "--resume"),
        ).start()
        checkpoint = tmp_path / "archive-cp.json"

        def second() -> int:
            try:
                return json.loads(checkpoint.read_text())["subreddits"]["posts:big"]["second"]
            except (OSError, ValueError, KeyError):
                return 0

        first = harness.wait_for(second, 60, "a first checkpoint")
        harness.wait_for(lambda: second() > first + 3600 or not proc.alive(), 60, "the checkpoint to move")
        assert proc.alive(), f"the backfill ended before it could be killed\n{proc.tail()}"
        proc.kill()
        killed_at = second()
        summary = backfill(
            {**env, "ARCHIVE_REQUESTS_PER_SECOND": "100"}, tmp_path, "--subreddits", "big", "--since", since, "--resume"
        )
        assert 0 < summary["produced"] < len(ids)
        url = env["DATABASE_URL"]
        harness.wait_for(lambda: q(url, "SELECT count(*) FROM posts")[0][0] == len(ids), 180, "every post in posts")
        assert {r[0] for r in q(url, "SELECT post_id FROM posts")} == set(ids)
        assert q(url, "SELECT count(DISTINCT post_id), count(*) FROM post_metrics_history") == [(len(ids), len(ids))]
        on_topic = topic_ids(env)
        assert set(on_topic) == set(ids)
        # what the second run produced again: only records delivered after the last saved checkpoint
        assert sum(on_topic.values()) - len(ids) <= len(ids) - summary["produced"]
        assert killed_at > 0
    finally:
        sim.kill()


def test_bad_arguments_are_one_line(archive_env, tmp_path):
    for args, words in (
        (["--subreddits", "python"], "--since"),
        (["--since", "2026-01-01"], "--subreddits"),
        (["--subreddits", "no spaces", "--since", "2026-01-01"], "--subreddits"),
        (["--subreddits", "python", "--since", "someday"], "--since"),
        (["--subreddits", "python", "--since", "2026-01-01", "--until", "2026-13-01"], "--until"),
        (["--subreddits", "python", "--since", "2026-01-01", "some.zst"], "reads no files"),
    ):
        proc = harness.faust("backfill", "--archive", *args, env=archive_env, cwd=tmp_path)
        assert proc.returncode == 2 or proc.returncode == 1, (args, proc.returncode, proc.stderr[-500:])
        last = proc.stderr.strip().splitlines()[-1]
        assert words in last and "Traceback" not in proc.stderr, (args, proc.stderr[-500:])
    proc = harness.faust(
        "backfill",
        "--archive",
        "--subreddits",
        "python",
        "--since",
        "2026-01-01",
        env={**archive_env, "ARCHIVE_API_URL": "ftp://x"},
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "ARCHIVE_API_URL" in proc.stderr and "Traceback" not in proc.stderr
