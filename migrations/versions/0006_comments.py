"""Comments: the `comments` table, per-post comment aggregates on `posts`, and the hourly comment
aggregate per subreddit (docs/design.md §5).

- `comments`: one row per comment, upserted idempotently on `(comment_id, created_utc)` (a
  comment's created_utc never changes, so the pair is as unique as the id; TimescaleDB wants the
  time column in every unique index). Indexed for a post's comments newest first (the API's keyset
  page and the per-post aggregates) and for the 24-hour figures.
- `posts.comments_seen`, `posts.comment_sentiment`: the count and mean sentiment of the post's rows
  in `comments`, kept by the sink (the mean leaves out removed and deleted bodies: NULL sentiment).
- `comment_metrics_hourly (bucket, subreddit, comments, avg_sentiment)`.

With `timescaledb`: `comments` is a hypertable on created_utc (1-day chunks) with the retention
policy (RETENTION_DAYS), and `comment_metrics_hourly` a real-time continuous aggregate with a
refresh policy, as 0003 and 0005 do for the history. Without it: the same names, a plain table
and a rollup table that the leader's maintenance timer refreshes together with
`post_metrics_hourly`, and retention deletes (streams/db/maintenance.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from migrations.timeseries import setting, uses_timescale

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HOURLY_SELECT = """
    SELECT time_bucket(INTERVAL '1 hour', created_utc) AS bucket,
           subreddit,
           count(*)                                    AS comments,
           avg(sentiment)                              AS avg_sentiment
      FROM comments
  GROUP BY 1, 2
"""


def upgrade() -> None:
    op.execute("""
        CREATE TABLE comments (
            comment_id  text NOT NULL,
            post_id     text NOT NULL,
            parent_id   text NOT NULL,
            subreddit   text NOT NULL,
            author      text,
            body        text,
            score       integer NOT NULL,
            created_utc timestamptz NOT NULL,
            sentiment   double precision CHECK (sentiment BETWEEN -1 AND 1),
            observed_at timestamptz NOT NULL,
            PRIMARY KEY (comment_id, created_utc)
        )
    """)
    op.execute("CREATE INDEX ix_comments_post ON comments (post_id, created_utc DESC, comment_id DESC)")
    op.execute("CREATE INDEX ix_comments_created ON comments (created_utc DESC) INCLUDE (subreddit, sentiment)")
    op.execute("ALTER TABLE posts ADD COLUMN comments_seen integer NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE posts ADD COLUMN comment_sentiment double precision")
    if uses_timescale(op.get_bind()):
        _upgrade_timescale()
    else:
        op.execute("""
            CREATE TABLE comment_metrics_hourly (
                bucket        timestamptz NOT NULL,
                subreddit     text NOT NULL,
                comments      bigint NOT NULL,
                avg_sentiment double precision,
                PRIMARY KEY (bucket, subreddit)
            )
        """)
    op.execute("CREATE INDEX ix_comment_metrics_hourly_subreddit ON comment_metrics_hourly (subreddit, bucket DESC)")


def _upgrade_timescale() -> None:
    retention_days = setting("retention_days")
    lookback_hours = setting("rollup_lookback_hours")
    op.execute(
        "SELECT create_hypertable('comments', 'created_utc', chunk_time_interval => INTERVAL '1 day', "
        "migrate_data => true)"
    )
    op.execute(f"SELECT add_retention_policy('comments', INTERVAL '{int(retention_days)} days')")
    op.execute(
        "CREATE MATERIALIZED VIEW comment_metrics_hourly WITH (timescaledb.continuous, "
        "timescaledb.materialized_only = false) AS" + HOURLY_SELECT + " WITH NO DATA"
    )
    op.execute(
        "SELECT add_continuous_aggregate_policy('comment_metrics_hourly', "
        f"start_offset => INTERVAL '{int(lookback_hours)} hours', end_offset => INTERVAL '1 hour', "
        "schedule_interval => INTERVAL '30 minutes')"
    )


def downgrade() -> None:
    if uses_timescale(op.get_bind()):
        op.execute("DROP MATERIALIZED VIEW IF EXISTS comment_metrics_hourly CASCADE")
        op.execute("SELECT remove_retention_policy('comments', if_exists => true)")
    else:
        op.execute("DROP TABLE IF EXISTS comment_metrics_hourly")
    op.execute("DROP TABLE IF EXISTS comments")
    op.execute("ALTER TABLE posts DROP COLUMN IF EXISTS comment_sentiment")
    op.execute("ALTER TABLE posts DROP COLUMN IF EXISTS comments_seen")
