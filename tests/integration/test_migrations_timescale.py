"""The TimescaleDB path of the migrations, on a real TimescaleDB: the PGlite WebAssembly build
served over the wire protocol by tools/timescale/server.mjs (docs/design.md §8).

This fails (never skips) when the server cannot be installed or started. PGlite is one session
shared by all clients: everything here runs serially, in one test module.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time

import psycopg
import pytest

from streams.analytics import sentiment
from streams.db.pool import make_pool
from streams.db.rows import CommentRow, ObservationRow
from streams.db.writer import Item, write_batch
from streams.records import comment_fields
from tests import harness
from tests.comment_shapes import aggregates_differ, snapshot

TS_DIR = harness.ROOT / "tools" / "timescale"


def ensure_node_modules() -> None:
    """`npm ci` from the pinned lock file, once (CI starts from a fresh clone)."""
    if (TS_DIR / "node_modules" / "@unni-craftsman" / "pglite" / "package.json").is_file():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the TimescaleDB tests (Node.js ≥ 18)"
    proc = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=TS_DIR, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def timescale_url():
    ensure_node_modules()
    server = harness.Process(env=dict(os.environ), name="server", workdir=TS_DIR, argv=("node", "server.mjs", "0"))
    server.log_path.unlink(missing_ok=True)
    server.start()
    try:
        # "READY <port>" on stdout, once WASM and the extension are loaded
        ready = harness.wait_for(
            lambda: re.search(r"^READY (\d+)$", server.log_text(), re.M) or not server.alive(),
            300,
            "the TimescaleDB server to start",
        )
        assert isinstance(ready, re.Match), f"the TimescaleDB server did not start:\n{server.tail()}"
        # a password in the DSN, and no SSL negotiation (the wire server does not answer SSLRequest)
        yield f"postgresql://postgres:postgres@127.0.0.1:{ready.group(1)}/postgres?sslmode=disable&gssencmode=disable"
    finally:
        server.stop(10)


def alembic(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "RETENTION_DAYS": "30", "ROLLUP_LOOKBACK_HOURS": "72"}
    proc = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(harness.ROOT / "alembic.ini"), *args],
        cwd=harness.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def q(url: str, sql: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def row(pid: str, observed_at: float, score: int) -> ObservationRow:
    return ObservationRow(
        pid,
        "python",
        "t",
        "alice",
        observed_at - 60,
        observed_at,
        score,
        3,
        0.9,
        "",
        "",
        False,
        0.1,
        2.0,
        0.5,
        0.3,
        False,
        True,
    )


def run_jobs(url: str, proc_name: str) -> None:
    """Run every job of a policy now (the WASM build has no background workers)."""
    for (job_id,) in q(url, "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s", (proc_name,)):
        q(url, f"CALL run_job({job_id})")


async def sink_write(url: str, rows: list[ObservationRow], retention_days: float | None = None) -> int:
    # as the worker would talk to it: a fixed-size, pre-opened pool without prepared statements
    pool = make_pool(url, min_size=2, max_size=2, prepare_threshold=None)
    await pool.open(wait=True, timeout=30)
    try:
        async with pool.connection() as conn:
            return (await write_batch(conn, [Item(r, None) for r in rows], retention_days=retention_days)).rows
    finally:
        await pool.close()


def test_timescaledb_hypertable_retention_and_continuous_aggregate(timescale_url):
    url = timescale_url
    alembic(url, "upgrade", "head")
    assert q(url, "SELECT extname FROM pg_extension WHERE extname = 'timescaledb'") == [("timescaledb",)]
    dims = q(
        url,
        "SELECT column_name, time_interval FROM timescaledb_information.dimensions "
        "WHERE hypertable_name = 'post_metrics_history'",
    )
    assert [(c, i.days) for c, i in dims] == [("observed_at", 1)]
    dims = q(
        url,
        "SELECT column_name, time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'comments'",
    )
    assert [(c, i.days) for c, i in dims] == [("created_utc", 1)]
    retention = q(
        url,
        "SELECT hypertable_name, config::text FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' "
        "ORDER BY 1",
    )
    assert [(h, '"drop_after": "30 days"' in c) for h, c in retention] == [
        ("comments", True),
        ("post_metrics_history", True),
    ]
    jobs = dict(
        q(
            url,
            "SELECT proc_name, config::text FROM timescaledb_information.jobs "
            "WHERE proc_name IN ('policy_retention', 'policy_refresh_continuous_aggregate')",
        )
    )
    assert '"drop_after": "30 days"' in jobs["policy_retention"]
    assert "policy_refresh_continuous_aggregate" in jobs
    assert q(url, "SELECT view_name FROM timescaledb_information.continuous_aggregates ORDER BY 1") == [
        ("comment_metrics_hourly",),
        ("post_metrics_hourly",),
    ]

    # the sink's own SQL against the hypertable (idempotent: written twice, stored once)
    now = time.time()
    rows = [row(f"ts{i}", now - 48 * 3600 + i * 600, i) for i in range(30)]
    assert asyncio.run(sink_write(url, rows)) == 30
    asyncio.run(sink_write(url, rows))
    assert q(url, "SELECT count(*) FROM post_metrics_history") == [(30,)]
    assert (
        q(url, "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'post_metrics_history'")[0][
            0
        ]
        >= 1
    )

    # policies are run on demand (the WASM build has no background workers)
    run_jobs(url, "policy_refresh_continuous_aggregate")
    hourly = q(url, "SELECT bucket, subreddit, observations, max_score FROM post_metrics_hourly ORDER BY bucket")
    assert sum(r[2] for r in hourly) == 30 and len(hourly) in (5, 6)
    assert hourly[-1][3] == 29

    run_jobs(url, "policy_retention")  # nothing is 30 days old: nothing dropped
    assert q(url, "SELECT count(*) FROM post_metrics_history") == [(30,)]

    # downgrade → upgrade on TimescaleDB too; data survives the hypertable → table copy
    alembic(url, "downgrade", "0002")
    assert q(url, "SELECT count(*) FROM timescaledb_information.hypertables") == [(0,)]
    assert q(url, "SELECT to_regclass('post_metrics_hourly')") == [(None,)]
    assert q(url, "SELECT count(*) FROM post_metrics_history") == [(30,)]
    alembic(url, "downgrade", "base")
    alembic(url, "upgrade", "head")
    assert q(url, "SELECT count(*) FROM timescaledb_information.hypertables") == [(2,)]
    assert q(
        url,
        "SELECT count(*) FROM timescaledb_information.jobs WHERE proc_name IN "
        "('policy_retention', 'policy_refresh_continuous_aggregate')",
    ) == [(4,)]


def test_api_queries_on_the_timescaledb_path(timescale_url):
    """The API's SQL (web.queries) on the hypertable and the continuous aggregate: the same
    answers as on the plain path, the current hour included (real-time aggregate, 0005)."""
    from web import queries
    from web.db import WebDatabase

    url = timescale_url
    alembic(url, "upgrade", "head")
    q(url, "TRUNCATE posts")
    q(url, "DELETE FROM post_metrics_history")
    now = time.time()
    # two observations each of 6 posts: 3 h ago and now (the current hour is not materialized)
    rows = [row(f"api{i}", t, 10 * i + k) for i in range(6) for k, t in enumerate((now - 3 * 3600, now - 60))]
    assert asyncio.run(sink_write(url, rows)) == 12
    run_jobs(url, "policy_refresh_continuous_aggregate")

    async def run() -> tuple:
        db = WebDatabase(url, min_size=2, max_size=2, prepare_threshold=None)
        await db.pool.open(wait=True, timeout=30)
        try:
            return (
                await queries.subreddits(db, ttl_seconds=25 * 3600),
                await queries.stats(db, ttl_seconds=25 * 3600),
                await queries.posts_page(db, subreddit="python", limit=4, after=None),
                await queries.post_detail(db, "api3"),
            )
        finally:
            await db.close()

    subs, stats, page, post = asyncio.run(run())
    assert [s["subreddit"] for s in subs] == ["python"]
    hourly = subs[0]["hourly"]
    assert [h["observations"] for h in hourly] == [6, 6]  # 3 h ago (materialized) and now (real time)
    assert hourly[-1]["avg_score"] == sum(10 * i + 1 for i in range(6)) / 6
    assert stats["total_posts"] == 6 and stats["observations_last_24h"] == 12
    page = json.loads(page)
    assert len(page["posts"]) == 4 and page["next_cursor"] is not None
    assert [h["score"] for h in post["history"]] == [30, 31]


def test_history_older_than_the_retention_is_not_written_on_timescaledb(timescale_url):
    """As on the plain path (test_sink.py): an old (e.g. backfilled) observation updates `posts`
    but creates no hypertable chunk that the retention policy would drop at once."""
    url = timescale_url
    alembic(url, "upgrade", "head")
    now = time.time()
    chunks = q(
        url, "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'post_metrics_history'"
    )
    assert (
        asyncio.run(
            sink_write(url, [row("tsret1", now - 40 * 86400, 1), row("tsret2", now - 2 * 86400, 2)], retention_days=30)
        )
        == 2
    )
    assert q(url, "SELECT post_id FROM posts WHERE post_id LIKE 'tsret%' ORDER BY 1") == [("tsret1",), ("tsret2",)]
    assert q(url, "SELECT post_id FROM post_metrics_history WHERE post_id LIKE 'tsret%'") == [("tsret2",)]
    old_chunks = q(
        url,
        "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = "
        "'post_metrics_history' AND range_end < now() - interval '30 days'",
    )
    assert old_chunks == [(0,)] and chunks[0][0] >= 0


def comment_row(i: int, post: str, created: float) -> CommentRow:
    fields = comment_fields(snapshot(i, post, created=created))
    compound = None if fields["body"] is None else sentiment.compound(fields["body"])
    return CommentRow(
        fields["id"],
        post,
        fields["parent_id"],
        "python",
        fields["author"],
        fields["body"],
        fields["score"],
        fields["created_utc"],
        fields["observed_at"],
        compound,
    )


def test_comments_on_the_hypertable_the_aggregates_and_the_api(timescale_url):
    """Comments on TimescaleDB: idempotent upserts into the hypertable, none older than the retention
    written, the posts' aggregates from the table (a comment before its post too), the real-time
    hourly comment aggregate, and the API's comment queries."""
    from web import queries
    from web.db import WebDatabase

    url = timescale_url
    alembic(url, "upgrade", "head")
    now = time.time()
    comments = [comment_row(i, "tsc1" if i % 2 else "tsc2", now - 3 * 3600 + i * 300) for i in range(24)]
    old = comment_row(99, "tsc1", now - 40 * 86400)

    async def write(rows) -> None:
        pool = make_pool(url, min_size=2, max_size=2, prepare_threshold=None)
        await pool.open(wait=True, timeout=30)
        try:
            async with pool.connection() as conn:
                await write_batch(conn, [Item(r, None) for r in rows], retention_days=30)
        finally:
            await pool.close()

    asyncio.run(write([*comments, old]))  # before their posts
    asyncio.run(write([row("tsc1", now - 60, 5), row("tsc2", now - 60, 6), *comments[:5]]))
    assert q(url, "SELECT count(*), count(DISTINCT comment_id) FROM comments WHERE post_id LIKE 'tsc%'") == [(24, 24)]
    assert not aggregates_differ(lambda sql, args: q(url, sql, args), ["tsc1", "tsc2"])
    assert q(url, "SELECT comments_seen FROM posts WHERE post_id LIKE 'tsc%'") == [(12,), (12,)]
    run_jobs(url, "policy_refresh_continuous_aggregate")
    hourly = q(url, "SELECT sum(comments) FROM comment_metrics_hourly WHERE subreddit = 'python'")
    assert hourly == [(24,)]

    async def api() -> tuple:
        db = WebDatabase(url, min_size=2, max_size=2, prepare_threshold=None)
        await db.pool.open(wait=True, timeout=30)
        try:
            return (
                json.loads(await queries.comments_page(db, "tsc1", limit=5, after=None)),
                await queries.stats(db, ttl_seconds=25 * 3600),
                await queries.subreddits(db, ttl_seconds=25 * 3600),
            )
        finally:
            await db.close()

    page, stats, subs = asyncio.run(api())
    assert [c["comment_id"] for c in page["comments"]] == [c.comment_id for c in comments if c.post_id == "tsc1"][::-1][
        :5
    ]
    assert stats["comments_last_24h"] >= 24
    python = next(s for s in subs if s["subreddit"] == "python")
    assert sum(h["comments"] for h in python["hourly"]) >= 24
