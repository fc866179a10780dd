"""Real-time `post_metrics_hourly` on TimescaleDB: the current hour included, as on the plain path.

TimescaleDB ≥ 2.13 creates continuous aggregates materialized-only: the refresh policy stops an
hour back (end_offset), so the API's hourly series lacked the last hour or two there, while the
plain path's rollup covers up to now. With `materialized_only = false` the view adds the
not-yet-materialized buckets from `post_metrics_history` at query time. Nothing changes on the
plain path.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _is_cagg(bind) -> bool:
    return bool(
        bind.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') "
                "AND to_regclass('timeseries_maintenance') IS NULL AND to_regclass('post_metrics_hourly') IS NOT NULL"
            )
        ).scalar()
    )


def upgrade() -> None:
    if _is_cagg(op.get_bind()):
        op.execute("ALTER MATERIALIZED VIEW post_metrics_hourly SET (timescaledb.materialized_only = false)")


def downgrade() -> None:
    if _is_cagg(op.get_bind()):
        op.execute("ALTER MATERIALIZED VIEW post_metrics_hourly SET (timescaledb.materialized_only = true)")
