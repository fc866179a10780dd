"""`faust -A streams backfill` end to end: dump files the test writes → the backfill topic → a
real worker → PostgreSQL. Exact fields, bad lines counted by reason, filters, a backfill
beside live ingest (live answers unchanged, no live row overwritten), and `--resume` after a
`kill -9` mid-file."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests import harness
from tests.comment_shapes import aggregates_differ
from tests.dumps import (
    BAD_LINES,
    SELECTION,
    SELECTION_START,
    comment,
    expected,
    expected_comment,
    selected,
    submission,
    write_gz,
    write_plain,
    write_zst,
)
from tests.scenario import Script, scripted, send, wait_exact

DAY = 86400.0


q = harness.query


pytestmark = pytest.mark.usefixtures("empty_tables")


def backfill(env: dict[str, str], workdir: Path, *args: str, timeout: float = 300) -> dict:
    """Run the command to its end; its summary (the JSON line it prints last)."""
    proc = harness.faust("backfill", *args, env=env, cwd=workdir, timeout=timeout)
    assert proc.returncode == 0, f"backfill failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rows_by_id(url: str, sql: str) -> dict[str, dict]:
    """The rows of `sql` as dicts, by their first column."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql)
        names = [d.name for d in cur.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def posts_by_id(url: str) -> dict[str, dict]:
    return rows_by_id(
        url,
        "SELECT post_id, subreddit, title, author, extract(epoch FROM created_utc)::float8 AS created_utc, "
        "extract(epoch FROM last_observed_at)::float8 AS last_observed_at, score, num_comments, upvote_ratio, url, "
        "permalink, over_18, sentiment, score_velocity, is_trending FROM posts",
    )


def test_dump_files_land_in_posts_with_exact_fields(start_worker, worker_env, tmp_path):
    w = start_worker()
    now = time.time()
    # recent enough to be inside RETENTION_DAYS (90): history rows too
    old_gen = [
        submission(
            i, generation="old", sub=["python", "Rust", "golang"][i % 3], created=now - 40 * DAY + i * 60, prefix="o"
        )
        for i in range(300)
    ]
    new_gen = [
        submission(i, generation="new", sub=["python", "rust"][i % 2], created=now - 20 * DAY + i * 60, prefix="n")
        for i in range(300)
    ]
    bad = [raw for raw, _ in BAD_LINES]
    files = [
        write_zst(tmp_path / "RS_2026-10.zst", old_gen[:150] + bad[:5] + old_gen[150:]),
        write_gz(tmp_path / "rust_submissions.gz", new_gen[:100] + bad[5:]),
        write_plain(tmp_path / "more.ndjson", new_gen[100:]),
    ]
    summary = backfill(worker_env, tmp_path, *map(str, files))
    assert summary["lines_read"] == 600 + len(bad) and summary["posts_matched"] == 600 and summary["produced"] == 600
    want_bad: dict[str, int] = {}
    for _, reason in BAD_LINES:
        want_bad[reason] = want_bad.get(reason, 0) + 1
    assert summary["bad_lines"] == want_bad

    url = worker_env["DATABASE_URL"]
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM posts")[0][0] == 600, 120, "600 backfilled posts")
    got = posts_by_id(url)
    for line in old_gen + new_gen:
        want = expected(line)
        row = got[want["id"]]
        assert (
            row["subreddit"],
            row["title"],
            row["author"],
            row["score"],
            row["num_comments"],
            row["url"],
            row["permalink"],
            row["over_18"],
        ) == (
            want["subreddit"],
            want["title"],
            want["author"],
            want["score"],
            want["num_comments"],
            want["url"],
            want["permalink"],
            want["over_18"],
        ), want["id"]
        assert abs(row["created_utc"] - want["created_utc"]) < 1e-6
        assert abs(row["last_observed_at"] - want["observed_at"]) < 1e-6
        assert abs(row["upvote_ratio"] - want["upvote_ratio"]) < 1e-9
        assert row["score_velocity"] == 0 and row["is_trending"] is False and -1 <= row["sentiment"] <= 1
    assert got["o0"]["author"] is None and got["o0"]["upvote_ratio"] == 1.0  # [deleted]; old files lack the ratio
    assert "🐍" in got["o0"]["title"]
    assert any(r["sentiment"] > 0.3 for r in got.values()) and any(r["sentiment"] < -0.3 for r in got.values())
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM post_metrics_history")[0][0] == 600,
        60,
        "one history row per backfilled post",
    )
    assert q(url, "SELECT count(*) FROM post_metrics_history WHERE score_velocity IS NOT NULL") == [(0,)]
    # nothing of the live state: no velocity entries for backfilled posts
    assert w.request("/api/posts/o1/velocity/")[0] == 404


def test_filters_select_exactly(start_worker, worker_env, tmp_path):
    start_worker()
    t0 = SELECTION_START
    data = [
        submission(i, generation="new", sub=["python", "Rust", "golang"][i % 3], created=t0 + i * 3600, prefix="f")
        for i in range(24 * 10)
    ]  # 10 days, one post an hour
    path = write_zst(tmp_path / "RS_2026-10.zst", data)
    summary = backfill(worker_env, tmp_path, str(path), *SELECTION)
    lo = datetime(2026, 10, 3, tzinfo=UTC).timestamp()
    want = selected(data)
    assert summary["posts_matched"] == len(want) == 40
    url = worker_env["DATABASE_URL"]
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM posts")[0][0] == len(want), 90, "the filtered posts")
    assert {r[0] for r in q(url, "SELECT post_id FROM posts")} == want
    dry = backfill(worker_env, tmp_path, str(path), "--dry-run", "--since", str(lo))
    assert dry["produced"] == 0 and dry["posts_matched"] == sum(1 for d in data if d["created_utc"] >= lo)
    assert q(url, "SELECT count(*) FROM posts")[0][0] == len(want)


def test_bad_arguments_stop_with_a_message(worker_env, tmp_path):
    dump = str(write_plain(tmp_path / "a.ndjson", []))
    for args, words in (
        (["/nonexistent.zst"], "no such file"),
        ([dump, "--since", "someday"], "--since"),
        ([dump, "--subreddits", "no spaces"], "--subreddits"),
        ([dump, "--until", "2026-13-01"], "--until"),
    ):
        proc = harness.faust("backfill", *args, env=worker_env, cwd=tmp_path)
        assert proc.returncode != 0 and words in proc.stderr, (args, proc.stderr[-500:])
        assert "Traceback" not in proc.stderr


def test_backfill_beside_live_ingest_changes_no_live_answer(start_worker, worker_env, tmp_path):
    w = start_worker()
    now = time.time()
    live = scripted(now)
    send(worker_env, worker_env["TOPIC_POSTS"], live.firsts)
    wait_exact(w, Script(firsts=live.firsts).expected())
    send(worker_env, worker_env["TOPIC_REFRESH"], live.refreshes)
    wait_exact(w, live.expected())
    url = worker_env["DATABASE_URL"]
    observations = len({(s["id"], s["observed_at"]) for s in live.firsts + live.refreshes})
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM post_metrics_history")[0][0] == observations, 60, "the live history"
    )
    before_rows = posts_by_id(url)

    # the dump has older observations of the live posts (same ids, fetched 3 days ago) and
    # 2,000 posts of its own; live refreshes keep coming while it runs
    overlap = [
        {
            **submission(i, generation="new", sub="python", created=now - 3 * DAY),
            "id": pid,
            "name": f"t3_{pid}",
            "score": 999_999,
            "_meta": {"retrieved_2nd_on": now - 3 * DAY + 3600},
        }
        for i, pid in enumerate(live.post_ids())
    ]
    own = [submission(i, generation="old", sub="python", created=now - 2 * DAY + i, prefix="bk") for i in range(2000)]
    path = write_zst(tmp_path / "python_submissions.zst", own[:1000] + overlap + own[1000:])
    runner = harness.Process(env=worker_env, name="backfill", workdir=tmp_path, args=("backfill", str(path))).start()
    later = [dict(s, observed_at=s["observed_at"] + 30, score=s["score"] + 5) for s in live.refreshes[-3:]]
    send(worker_env, worker_env["TOPIC_REFRESH"], later)
    assert runner.wait(300) == 0, runner.tail(40)
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM posts")[0][0] == len(before_rows) + 2000, 120, "the backfilled posts"
    )
    # the velocity table is exactly the live fold: the backfill changed nothing in it
    wait_exact(w, Script(firsts=live.firsts, refreshes=live.refreshes + later).expected())
    changed = {s["id"] for s in later}
    after_rows = posts_by_id(url)
    for pid, row in before_rows.items():
        if pid not in changed:
            assert after_rows[pid] == row, pid  # no live row overwritten by an older backfilled one
        assert after_rows[pid]["score"] != 999_999
    # the backfilled copies of the live posts are in the history, below the live rows
    assert q(url, "SELECT count(*) FROM post_metrics_history WHERE score = 999999") == [(len(overlap),)]
    trending = [p for p in w.get_json("/api/trending/?limit=200")["posts"] if p["post_id"] not in changed]
    assert all(p["post_id"] in before_rows for p in trending)  # nothing backfilled is trending now
    assert {p["post_id"] for p in trending} == {
        pid for pid, r in before_rows.items() if r["is_trending"] and pid not in changed
    }


def test_resume_after_kill_9_mid_file(start_worker, worker_env, tmp_path):
    start_worker()
    now = time.time()
    n = 50_000
    path = write_zst(
        tmp_path / "RS_big.zst",
        (submission(i, generation="old", sub="python", created=now - 10 * DAY + i, prefix="r") for i in range(n)),
    )
    checkpoint = tmp_path / "cp.json"
    # a small buffer and a long linger: the first run is slow enough to be killed mid-file
    env = {
        **worker_env,
        "BACKFILL_CHECKPOINT": str(checkpoint),
        "INGEST_BUFFER_RECORDS": "500",
        "PRODUCER_LINGER_MS": "100",
    }
    proc = harness.Process(
        env=env, name="backfill-killed", workdir=tmp_path, args=("backfill", str(path), "--resume")
    ).start()

    def done_so_far() -> int:
        try:
            return next(iter(json.loads(checkpoint.read_text())["files"].values()))["lines_done"]
        except (OSError, ValueError, StopIteration):
            return 0

    harness.wait_for(lambda: done_so_far() > 5000 or not proc.alive(), 120, "the checkpoint to move")
    assert proc.alive(), f"the backfill finished before it could be killed: make the file larger\n{proc.tail()}"
    proc.kill()
    killed_at = done_so_far()
    assert 0 < killed_at < n
    summary = backfill(
        {**env, "INGEST_BUFFER_RECORDS": "10000", "PRODUCER_LINGER_MS": "20"}, tmp_path, str(path), "--resume"
    )
    assert summary["skipped_by_resume"] == killed_at and summary["lines_read"] == n - killed_at
    url = worker_env["DATABASE_URL"]
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM posts")[0][0] == n, 180, "every post in posts")
    assert q(url, "SELECT count(DISTINCT post_id), count(*) FROM post_metrics_history") == [(n, n)]
    again = backfill(env, tmp_path, str(path), "--resume")  # finished: nothing read again
    assert again["lines_read"] == 0


def comments_by_id(url: str) -> dict[str, dict]:
    return rows_by_id(
        url,
        "SELECT comment_id AS id, post_id, parent_id, subreddit, author, body, score, "
        "extract(epoch FROM created_utc)::float8 AS created_utc, "
        "extract(epoch FROM observed_at)::float8 AS observed_at, sentiment FROM comments",
    )


def test_comment_dumps_of_both_generations_land_in_comments(start_worker, worker_env, tmp_path):
    """RC_ and <name>_comments files of both generations, and a file whose name says nothing (a line
    is a comment by its content, beside submissions): every comment exact, the posts' aggregates a
    recomputation of `comments`, filters and --resume as for posts."""
    w = start_worker()
    now = time.time()
    old = [
        comment(i, generation="old", sub="python", created=now - 30 * DAY + i * 60, post=f"op{i % 5}")
        for i in range(60)
    ]
    new = [
        comment(1000 + i, generation="new", sub="rust", created=now - 10 * DAY + i * 60, post=f"np{i % 4}",
                parent=None if i % 3 else "t1_c3e8")
        for i in range(60)
    ]  # fmt: skip
    posts = [submission(i, generation="new", sub="rust", created=now - 11 * DAY, prefix="np") for i in range(4)]
    bad = b'{"id": "x1", "link_id": "t3_NOT A POST", "subreddit": "python", "created_utc": 1}'
    files = [
        write_zst(tmp_path / "RC_2026-10.zst", old[:30] + [bad] + old[30:]),
        write_zst(tmp_path / "rust_comments.zst", new[:30]),
        write_plain(tmp_path / "mixed.ndjson", posts + new[30:]),  # chosen by content, not by name
    ]
    summary = backfill(worker_env, tmp_path, *map(str, files))
    assert summary["comments_matched"] == 120 and summary["posts_matched"] == 4 and summary["produced"] == 124
    assert summary["bad_lines"] == {"bad_id": 1}

    url = worker_env["DATABASE_URL"]
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM comments")[0][0] == 120, 120, "120 backfilled comments")
    got = comments_by_id(url)
    for line in old + new:
        want = expected_comment(line)
        row = got[want["id"]]
        assert {k: row[k] for k in want if k != "source"} == {k: v for k, v in want.items() if k != "source"}
        assert (row["sentiment"] is None) == (want["body"] is None)
    np = [f"np{i}" for i in range(4)]
    harness.wait_for(
        lambda: not aggregates_differ(lambda sql, args: q(url, sql, args), np)
        and q(url, "SELECT count(*) FROM posts")[0][0] == 4,
        60,
        "the backfilled posts' comment aggregates",
    )
    assert w.get_json("/api/posts/np1/")["comments_seen"] == 15

    # filters: --subreddits, --since, --until on the comments' created_utc
    harness.query(url, "TRUNCATE comments")
    lo, hi = now - 10 * DAY + 10 * 60, now - 10 * DAY + 20 * 60
    filtered = backfill(
        worker_env, tmp_path, *map(str, files), "--subreddits", "RUST", "--since", str(lo), "--until", str(hi)
    )
    want_ids = {c["id"] for c in new if lo <= c["created_utc"] < hi}
    assert filtered["comments_matched"] == len(want_ids) == 10
    harness.wait_for(lambda: q(url, "SELECT count(*) FROM comments")[0][0] == 10, 60, "the filtered comments")
    assert {r[0] for r in q(url, "SELECT comment_id FROM comments")} == want_ids

    # --resume: a finished file is not read again
    checkpoint = {**worker_env, "BACKFILL_CHECKPOINT": str(tmp_path / "cp.json")}
    assert backfill(checkpoint, tmp_path, str(files[1]), "--resume")["comments_matched"] == 30
    assert backfill(checkpoint, tmp_path, str(files[1]), "--resume")["lines_read"] == 0
