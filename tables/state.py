"""Per-post state: velocity baselines, the sentiment cache and the post's comments (RocksDB,
changelog-backed)."""

from __future__ import annotations

import time

from streams.analytics.velocity import VelocityState, is_expired
from streams.app import app, settings
from tables.direct import DirectTable
from tables.expiry import changelog_config, sweep

VELOCITY_TTL_S = settings.velocity_ttl_hours * 3600.0
# A post is tracked for at most the last refresh tier; keep its sentiment a little longer.
SENTIMENT_TTL_S = max(settings.refresh_tiers[-1][0] * 3600.0, VELOCITY_TTL_S) * 1.5

# Keys are the post id as raw bytes, like the source topics' keys, so that the router (web
# views) hashes a key to the same partition the producer did.
# post id -> VelocityState.to_dict()
velocity_table = app.Table(
    "velocity",
    default=None,
    key_type=bytes,
    partitions=settings.topic_partitions,
    extra_topic_configs=changelog_config(VELOCITY_TTL_S),
    help="Velocity baseline per post (last score, comments, observed_at and velocities).",
)

# post id -> {"s": compound, "t": observed_at of the first observation}
sentiment_table = app.Table(
    "sentiment",
    default=None,
    key_type=bytes,
    partitions=settings.topic_partitions,
    extra_topic_configs=changelog_config(SENTIMENT_TTL_S),
    help="VADER compound per post, computed once.",
)


# post id -> its comments' entry (streams.processing.comments): counts, sentiment sum, the rate
# window's minutes, the comment ids seen. Kept while its post gets comments: until COMMENTS_TTL_S
# after the newest one.
COMMENTS_TTL_S = SENTIMENT_TTL_S
post_comments_table = app.Table(
    "post_comments",
    default=None,
    key_type=bytes,
    partitions=settings.topic_partitions,
    extra_topic_configs=changelog_config(COMMENTS_TTL_S),
    help="Per post: comments seen, their sentiment, comments per minute, the ids seen.",
)


# the enrichment's fast path to them (tables.direct): multi-gets and write batches straight to
# the partitions' RocksDB databases
VELOCITY = DirectTable(velocity_table)
SENTIMENT = DirectTable(sentiment_table)
POST_COMMENTS = DirectTable(post_comments_table)


@app.timer(interval=300.0)
async def expire_state() -> None:
    now = time.time()
    sweep(velocity_table, lambda v: is_expired(VelocityState.from_dict(v), now, VELOCITY_TTL_S))
    sweep(sentiment_table, lambda v: now - float(v.get("t", 0)) > SENTIMENT_TTL_S)
    sweep(post_comments_table, lambda v: now - float(v.get("last", 0)) > COMMENTS_TTL_S)
