"""Base schema: `posts` (latest state of each post) and `post_metrics_history` (every observation).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE posts (
            post_id          text PRIMARY KEY CHECK (post_id ~ '^[0-9a-z]{1,13}$'),
            subreddit        text NOT NULL CHECK (subreddit <> ''),
            title            text NOT NULL,
            author           text,
            created_utc      timestamptz NOT NULL,
            score            integer NOT NULL,
            num_comments     integer NOT NULL CHECK (num_comments >= 0),
            upvote_ratio     double precision NOT NULL CHECK (upvote_ratio BETWEEN 0 AND 1),
            sentiment        double precision NOT NULL CHECK (sentiment BETWEEN -1 AND 1),
            url              text NOT NULL DEFAULT '',
            permalink        text NOT NULL DEFAULT '',
            over_18          boolean NOT NULL DEFAULT false,
            first_seen_at    timestamptz NOT NULL DEFAULT now(),
            last_observed_at timestamptz NOT NULL
        )
    """)
    # keyset pagination, newest first, on (created_utc, post_id); and the same per subreddit
    op.execute("CREATE INDEX ix_posts_keyset ON posts (created_utc DESC, post_id DESC)")
    op.execute("CREATE INDEX ix_posts_subreddit_keyset ON posts (subreddit, created_utc DESC, post_id DESC)")
    # covering index of the stats query (last-24h counts, avg sentiment, top subreddits/authors):
    # an index-only scan over the recent range
    op.execute("CREATE INDEX ix_posts_stats ON posts (created_utc) INCLUDE (subreddit, author, sentiment)")

    op.execute("""
        CREATE TABLE post_metrics_history (
            post_id      text NOT NULL,
            observed_at  timestamptz NOT NULL,
            subreddit    text NOT NULL,
            score        integer NOT NULL,
            num_comments integer NOT NULL CHECK (num_comments >= 0),
            upvote_ratio double precision NOT NULL CHECK (upvote_ratio BETWEEN 0 AND 1),
            PRIMARY KEY (post_id, observed_at)
        )
    """)
    op.execute("CREATE INDEX ix_history_observed_brin ON post_metrics_history USING brin (observed_at)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS post_metrics_history")
    op.execute("DROP TABLE IF EXISTS posts")
