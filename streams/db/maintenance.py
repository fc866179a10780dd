"""Plain-PostgreSQL upkeep of the time series (TimescaleDB does both with its own policies).

- `refresh_hourly`: recomputes the `post_metrics_hourly` buckets of the last
  ROLLUP_LOOKBACK_HOURS (all of them on the first run) from `post_metrics_history`, in one
  transaction (delete the window's buckets, insert them again): idempotent, and incremental in
  that only the window is touched -- the same contract as the continuous aggregate's policy.
  `comment_metrics_hourly` the same way from `comments` (by created_utc), in the same transaction.
- `apply_retention`: deletes history and comments older than RETENTION_DAYS, in bounded chunks.
"""

from __future__ import annotations

import psycopg

ROLLUP_WINDOW = """
SELECT CASE WHEN done_until IS NULL THEN '-infinity'::timestamptz
            ELSE date_bin('1 hour', done_until - make_interval(hours => %(lookback)s),
                          TIMESTAMPTZ '2000-01-01 00:00:00+00') END::text, now()
  FROM timeseries_maintenance WHERE job = 'rollup_hourly' FOR UPDATE
"""

ROLLUP_DELETE = "DELETE FROM post_metrics_hourly WHERE bucket >= %(lo)s::timestamptz"

ROLLUP_INSERT = """
INSERT INTO post_metrics_hourly (bucket, subreddit, observations, avg_score, max_score,
                                 avg_num_comments, max_num_comments, avg_score_velocity,
                                 max_score_velocity)
SELECT date_bin('1 hour', observed_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), subreddit,
       count(*), avg(score::double precision), max(score),
       avg(num_comments::double precision), max(num_comments),
       avg(score_velocity), max(score_velocity)
  FROM post_metrics_history
 WHERE observed_at >= %(lo)s::timestamptz
 GROUP BY 1, 2
"""

COMMENTS_ROLLUP_DELETE = "DELETE FROM comment_metrics_hourly WHERE bucket >= %(lo)s::timestamptz"

COMMENTS_ROLLUP_INSERT = """
INSERT INTO comment_metrics_hourly (bucket, subreddit, comments, avg_sentiment)
SELECT date_bin('1 hour', created_utc, TIMESTAMPTZ '2000-01-01 00:00:00+00'), subreddit, count(*), avg(sentiment)
  FROM comments
 WHERE created_utc >= %(lo)s::timestamptz
 GROUP BY 1, 2
"""

ROLLUP_DONE = """
UPDATE timeseries_maintenance SET done_until = %(now)s, last_run_at = %(now)s, last_row_count = %(n)s
 WHERE job = 'rollup_hourly'
"""

RETENTION_CHUNK = """
DELETE FROM {table}
 WHERE ctid = ANY (ARRAY(SELECT ctid FROM {table}
                          WHERE {time} < now() - make_interval(days => %(days)s)
                          LIMIT %(chunk)s))
"""
RETAINED = (("post_metrics_history", "observed_at"), ("comments", "created_utc"))


async def is_plain(conn: psycopg.AsyncConnection) -> bool:
    """True when the plain-PostgreSQL path of revision 0003 is installed (not TimescaleDB)."""
    cur = await conn.execute("SELECT to_regclass('timeseries_maintenance') IS NOT NULL")
    row = await cur.fetchone()
    return bool(row and row[0])


async def refresh_hourly(conn: psycopg.AsyncConnection, lookback_hours: int) -> int:
    """Recompute the recent hourly buckets; returns how many (bucket, subreddit) rows were written."""
    async with conn.transaction():
        cur = await conn.execute(ROLLUP_WINDOW, {"lookback": lookback_hours})
        lo, now = await cur.fetchone() or (None, None)  # lo as text: it may be '-infinity'
        await conn.execute(ROLLUP_DELETE, {"lo": lo})
        cur = await conn.execute(ROLLUP_INSERT, {"lo": lo})
        n = cur.rowcount
        await conn.execute(COMMENTS_ROLLUP_DELETE, {"lo": lo})
        await conn.execute(COMMENTS_ROLLUP_INSERT, {"lo": lo})
        await conn.execute(ROLLUP_DONE, {"now": now, "n": n})
    return n


async def apply_retention(conn: psycopg.AsyncConnection, days: int, chunk: int = 10_000) -> int:
    """Delete expired history and comments in chunks (each its own short transaction); returns rows
    deleted."""
    total = 0
    for table, time_column in RETAINED:
        sql = RETENTION_CHUNK.format(table=table, time=time_column)
        while True:
            async with conn.transaction():
                cur = await conn.execute(sql, {"days": days, "chunk": chunk})
                n = cur.rowcount
            total += max(n, 0)
            if n < chunk:
                break
    async with conn.transaction():
        await conn.execute(
            "UPDATE timeseries_maintenance SET done_until = now(), last_run_at = now(), last_row_count = %s "
            "WHERE job = 'retention'",
            (total,),
        )
    return total
