"""Alembic on plain PostgreSQL: upgrade → downgrade → upgrade, and the plain time-series path."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import psycopg
import pytest

from streams.db.maintenance import apply_retention, refresh_hourly
from tests import harness

TABLES = {
    "posts",
    "post_metrics_history",
    "dlq_events",
    "post_metrics_hourly",
    "timeseries_maintenance",
    "comments",
    "comment_metrics_hourly",
}


def alembic(url: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(harness.ROOT / "alembic.ini"), *args],
        cwd=harness.ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def relations(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT relname, relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = "
                "c.relnamespace WHERE n.nspname = 'public' AND relkind IN ('r', 'v', 'm', 'p')"
            )
        )


@pytest.fixture
def empty_db(stack):
    admin = stack["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    name = harness.unique("t_migr_")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield stack["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_downgrade_upgrade(empty_db):
    alembic(empty_db, "upgrade", "head")
    assert set(relations(empty_db)) >= TABLES
    assert "0006 (head)" in alembic(empty_db, "current")
    alembic(empty_db, "downgrade", "0005")
    assert not {"comments", "comment_metrics_hourly"} & set(relations(empty_db))
    with psycopg.connect(empty_db) as conn:
        columns = {
            r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'posts'")
        }
    assert not {"comments_seen", "comment_sentiment"} & columns
    alembic(empty_db, "upgrade", "head")
    with psycopg.connect(empty_db) as conn:  # dead letters of batch elements: one per (message, item)
        unique = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'uq_dlq_events_source'"
        ).fetchone()[0]
    assert unique == 'UNIQUE (source_topic, partition, "offset", item)'
    alembic(empty_db, "downgrade", "0003")
    with psycopg.connect(empty_db) as conn:
        columns = {
            r[0]
            for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'dlq_events'")
        }
    assert "item" not in columns and "offset" in columns
    alembic(empty_db, "downgrade", "0002")
    assert not {"post_metrics_hourly", "timeseries_maintenance"} & set(relations(empty_db))
    alembic(empty_db, "downgrade", "base")
    assert set(relations(empty_db)) == {"alembic_version"}
    alembic(empty_db, "upgrade", "head")
    assert set(relations(empty_db)) >= TABLES
    with psycopg.connect(empty_db) as conn:
        idx = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
        checks = {r[0] for r in conn.execute("SELECT conname FROM pg_constraint WHERE contype = 'c'")}
    assert {"ix_posts_keyset", "ix_posts_stats", "ix_history_observed_brin", "ix_posts_trending"} <= idx
    assert {"posts_upvote_ratio_check", "posts_num_comments_check"} <= checks


def test_plain_rollup_is_incremental_idempotent_and_retention_deletes(database):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("""
            INSERT INTO post_metrics_history (post_id, observed_at, subreddit, score, num_comments, upvote_ratio,
                                              score_velocity)
            SELECT 'r' || i, date_trunc('hour', now()) - make_interval(hours => i % 5) + make_interval(secs => i),
                   CASE WHEN i % 2 = 0 THEN 'python' ELSE 'rust' END, i, 1, 0.5, i / 10.0
              FROM generate_series(1, 200) i""")
        conn.execute(
            "INSERT INTO post_metrics_history (post_id, observed_at, subreddit, score, num_comments, "
            "upvote_ratio) VALUES ('old1', now() - interval '400 days', 'python', 1, 0, 0.5)"
        )

        # comments, by created_utc: 100 in the last hours (a fifth of them with a removed body), one too old
        conn.execute("""
            INSERT INTO comments (comment_id, post_id, parent_id, subreddit, score, created_utc, sentiment, observed_at)
            SELECT 'c' || i, 'r' || i, 't3_r' || i, CASE WHEN i % 2 = 0 THEN 'python' ELSE 'rust' END, 1,
                   date_trunc('hour', now()) - make_interval(hours => i % 3) + make_interval(secs => i),
                   CASE WHEN i % 5 = 0 THEN NULL ELSE 0.5 END, now()
              FROM generate_series(1, 100) i""")
        conn.execute(
            "INSERT INTO comments (comment_id, post_id, parent_id, subreddit, score, created_utc, observed_at) "
            "VALUES ('cold', 'old1', 't3_old1', 'python', 1, now() - interval '400 days', now())"
        )

    async def run(fn, *args):
        async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
            return await fn(conn, *args)

    first = asyncio.run(run(refresh_hourly, 72))
    with psycopg.connect(database) as conn:
        snap1 = conn.execute("SELECT * FROM post_metrics_hourly ORDER BY 1, 2").fetchall()
        assert conn.execute("SELECT sum(observations) FROM post_metrics_hourly").fetchone()[0] == 201
    assert first == len(snap1)
    assert asyncio.run(run(refresh_hourly, 72)) > 0
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT * FROM post_metrics_hourly ORDER BY 1, 2").fetchall() == snap1  # idempotent
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT sum(comments) FROM comment_metrics_hourly").fetchone()[0] == 101
        hours = conn.execute(
            "SELECT bucket, subreddit, comments, avg_sentiment FROM comment_metrics_hourly "
            "WHERE bucket > now() - interval '1 day' ORDER BY 1, 2"
        ).fetchall()
        want = conn.execute(
            "SELECT date_trunc('hour', created_utc), subreddit, count(*), avg(sentiment) FROM comments "
            "WHERE created_utc > now() - interval '1 day' GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
    assert hours == want and all(h[3] == 0.5 for h in hours)  # removed bodies left out of the mean
    assert asyncio.run(run(apply_retention, 90)) == 2  # the old observation and the old comment
    asyncio.run(run(refresh_hourly, 72))
    with psycopg.connect(database) as conn:
        # the 400-day-old bucket is outside the lookback window: the rollup keeps it (like a cagg)
        assert conn.execute("SELECT sum(observations) FROM post_metrics_hourly").fetchone()[0] == 201
        assert conn.execute("SELECT count(*) FROM post_metrics_history").fetchone()[0] == 200
        assert conn.execute("SELECT count(*) FROM comments").fetchone()[0] == 100
