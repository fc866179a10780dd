"""Dead letters of one element of a batch message: `dlq_events.item`.

The observations topic carries batches (a JSON array per message, streams.outbox), so several
dead letters can come from one (topic, partition, offset): `item` is the element's index (0 for
a message that is not a batch) and joins the uniqueness key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE dlq_events ADD COLUMN item integer NOT NULL DEFAULT 0 CHECK (item >= 0)")
    op.execute("ALTER TABLE dlq_events DROP CONSTRAINT uq_dlq_events_source")
    op.execute(
        'ALTER TABLE dlq_events ADD CONSTRAINT uq_dlq_events_source UNIQUE (source_topic, "partition", "offset", item)'
    )


def downgrade() -> None:
    op.execute("DELETE FROM dlq_events WHERE item > 0")
    op.execute("ALTER TABLE dlq_events DROP CONSTRAINT uq_dlq_events_source")
    op.execute(
        'ALTER TABLE dlq_events ADD CONSTRAINT uq_dlq_events_source UNIQUE (source_topic, "partition", "offset")'
    )
    op.execute("ALTER TABLE dlq_events DROP COLUMN item")
