"""Time series: TimescaleDB when the extension is available, the same relation names otherwise.

With `timescaledb` (available on the server): `post_metrics_history` becomes a hypertable with
1-day chunks, a retention policy keeps RETENTION_DAYS, and `post_metrics_hourly` is a
continuous aggregate with a refresh policy (ROLLUP_LOOKBACK_HOURS back, up to one hour ago).

Without it: `post_metrics_history` stays a plain table (BRIN on time), `post_metrics_hourly`
is a table with the same columns, refreshed incrementally and idempotently together with the
retention deletes by the leader-only timer in `agents/maintenance.py`
(`streams/db/maintenance.py`); `timeseries_maintenance` remembers how far the rollup got.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-01
"""

from __future__ import annotations

import os

from alembic import op
from sqlalchemy import text

from migrations.timeseries import setting, uses_timescale

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The columns of post_metrics_hourly are the same on both paths (queries rely on nothing else).
HOURLY_SELECT = """
    SELECT time_bucket(INTERVAL '1 hour', observed_at)         AS bucket,
           subreddit,
           count(*)                                            AS observations,
           avg(score::double precision)                        AS avg_score,
           max(score)                                          AS max_score,
           avg(num_comments::double precision)                 AS avg_num_comments,
           max(num_comments)                                   AS max_num_comments,
           avg(score_velocity)                                 AS avg_score_velocity,
           max(score_velocity)                                 AS max_score_velocity
      FROM post_metrics_history
  GROUP BY 1, 2
"""


def _timescale_available(bind) -> bool:
    if os.environ.get("REDDITSTREAM_TIMESCALEDB", "auto").lower() in ("0", "off", "false", "no"):
        return False
    return bool(
        bind.execute(text("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')")).scalar()
    )


def upgrade() -> None:
    bind = op.get_bind()
    if _timescale_available(bind):
        _upgrade_timescale()
    else:
        _upgrade_plain()


def _upgrade_timescale() -> None:
    retention_days = setting("retention_days")
    lookback_hours = setting("rollup_lookback_hours")
    op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    op.execute(
        "SELECT create_hypertable('post_metrics_history', 'observed_at', "
        "chunk_time_interval => INTERVAL '1 day', migrate_data => true)"
    )
    op.execute(f"SELECT add_retention_policy('post_metrics_history', INTERVAL '{int(retention_days)} days')")
    # WITH NO DATA: allowed inside the migration's transaction; the policy fills it.
    op.execute(
        "CREATE MATERIALIZED VIEW post_metrics_hourly WITH (timescaledb.continuous) AS"
        + HOURLY_SELECT
        + " WITH NO DATA"
    )
    op.execute(
        "SELECT add_continuous_aggregate_policy('post_metrics_hourly', "
        f"start_offset => INTERVAL '{int(lookback_hours)} hours', end_offset => INTERVAL '1 hour', "
        "schedule_interval => INTERVAL '30 minutes')"
    )
    op.execute("CREATE INDEX ix_post_metrics_hourly_subreddit ON post_metrics_hourly (subreddit, bucket DESC)")


def _upgrade_plain() -> None:
    op.execute("""
        CREATE TABLE post_metrics_hourly (
            bucket             timestamptz NOT NULL,
            subreddit          text NOT NULL,
            observations       bigint NOT NULL,
            avg_score          double precision,
            max_score          integer,
            avg_num_comments   double precision,
            max_num_comments   integer,
            avg_score_velocity double precision,
            max_score_velocity double precision,
            PRIMARY KEY (bucket, subreddit)
        )
    """)
    op.execute("CREATE INDEX ix_post_metrics_hourly_subreddit ON post_metrics_hourly (subreddit, bucket DESC)")
    op.execute("""
        CREATE TABLE timeseries_maintenance (
            job            text PRIMARY KEY,
            done_until     timestamptz,
            last_run_at    timestamptz,
            last_row_count bigint
        )
    """)
    op.execute("INSERT INTO timeseries_maintenance (job) VALUES ('rollup_hourly'), ('retention')")


def downgrade() -> None:
    bind = op.get_bind()
    if uses_timescale(bind):
        op.execute("DROP MATERIALIZED VIEW IF EXISTS post_metrics_hourly CASCADE")
        op.execute("SELECT remove_retention_policy('post_metrics_history', if_exists => true)")
        # A hypertable cannot be turned back into a table in place: copy it into a plain one.
        op.execute(
            "CREATE TABLE post_metrics_history_plain (LIKE post_metrics_history INCLUDING DEFAULTS "
            "INCLUDING CONSTRAINTS)"
        )
        op.execute("INSERT INTO post_metrics_history_plain SELECT * FROM post_metrics_history")
        op.execute("DROP TABLE post_metrics_history")
        op.execute("ALTER TABLE post_metrics_history_plain RENAME TO post_metrics_history")
        op.execute("ALTER TABLE post_metrics_history ADD PRIMARY KEY (post_id, observed_at)")
        op.execute("CREATE INDEX ix_history_observed_brin ON post_metrics_history USING brin (observed_at)")
        # the extension stays installed: other objects of the database may use it
    else:
        op.execute("DROP TABLE IF EXISTS timeseries_maintenance")
        op.execute("DROP TABLE IF EXISTS post_metrics_hourly")
