"""Durable dead letters (`dlq_events`); velocity and trending columns.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-01
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE posts
            ADD COLUMN score_velocity   double precision NOT NULL DEFAULT 0,
            ADD COLUMN comment_velocity double precision NOT NULL DEFAULT 0,
            ADD COLUMN trending_score   double precision NOT NULL DEFAULT 0
                CHECK (trending_score BETWEEN 0 AND 1),
            ADD COLUMN is_trending      boolean NOT NULL DEFAULT false
    """)
    op.execute("CREATE INDEX ix_posts_trending ON posts (trending_score DESC) WHERE is_trending")
    # NULL = no velocity for this observation (a post's first one, or an out-of-order one)
    op.execute("""
        ALTER TABLE post_metrics_history
            ADD COLUMN score_velocity   double precision,
            ADD COLUMN comment_velocity double precision
    """)
    op.execute("""
        CREATE TABLE dlq_events (
            id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_topic     text NOT NULL,
            "partition"      integer NOT NULL,
            "offset"         bigint NOT NULL,
            key              text,
            payload          text NOT NULL,
            payload_encoding text NOT NULL DEFAULT 'utf-8' CHECK (payload_encoding IN ('utf-8', 'base64')),
            error_type       text NOT NULL,
            error            text NOT NULL,
            failed_at        timestamptz NOT NULL,
            attempt          integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
            worker           text NOT NULL DEFAULT '',
            recorded_at      timestamptz NOT NULL DEFAULT now(),
            replayed_at      timestamptz,
            CONSTRAINT uq_dlq_events_source UNIQUE (source_topic, "partition", "offset")
        )
    """)
    op.execute("CREATE INDEX ix_dlq_events_failed_at ON dlq_events (failed_at DESC, id DESC)")
    op.execute("CREATE INDEX ix_dlq_events_topic_error ON dlq_events (source_topic, error_type)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS dlq_events")
    op.execute(
        "ALTER TABLE post_metrics_history DROP COLUMN IF EXISTS score_velocity, DROP COLUMN IF EXISTS comment_velocity"
    )
    op.execute("DROP INDEX IF EXISTS ix_posts_trending")
    op.execute(
        "ALTER TABLE posts DROP COLUMN IF EXISTS score_velocity, DROP COLUMN IF EXISTS comment_velocity, "
        "DROP COLUMN IF EXISTS trending_score, DROP COLUMN IF EXISTS is_trending"
    )
