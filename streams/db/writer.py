"""The sink's SQL: one transaction per flush, one statement (one round trip) per table.

The rows travel as one JSON document (`rows_json`) that PostgreSQL unpacks with
`json_to_recordset`: psycopg's array adaptation of seventeen `unnest` arrays cost the worker
about 20 µs of CPU per row, the JSON document under 2 µs.

`write_batch` upserts `comments` (idempotent on `(comment_id, created_utc)`), upserts `posts`
(newest observation wins; a post inserted after its comments starts with their counts), inserts
`post_metrics_history` (idempotent on `(post_id, observed_at)`), sets the batch's posts'
`comments_seen` / `comment_sentiment` from their rows in `comments` (so the per-post aggregates are
a recomputation of the table, whatever order and however often the comments came), and stores
dead letters in `dlq_events` (idempotent on
`(source_topic, partition, offset, item)`), all in one transaction. When PostgreSQL rejects the batch
for its *content* (SQLSTATE class 22 data exception or 23 integrity violation), the batch is
written again with each half in a savepoint, recursively, so that only the rejected rows are
split out; they become dead letters in the same transaction. Any other error (connection lost,
server down, timeout, a missing table) propagates: the caller retries the whole batch.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import UnionType
from typing import Any

import psycopg

from streams.db.rows import CommentRow, DeadRow, ObservationRow, dead_columns, halves, rows_json


def recordset_columns(row_type: type = ObservationRow) -> str:
    """The column definitions of `json_to_recordset` for the rows: every field of the row type
    (streams.db.rows, derived from the records' schema) with its PostgreSQL type."""
    pg = {str: "text", float: "float8", int: "int", bool: "bool"}
    return ", ".join(
        f"{name} {pg[typing.get_args(t)[0] if typing.get_origin(t) in (typing.Union, UnionType) else t]}"
        for name, t in typing.get_type_hints(row_type).items()
    )


UPSERT_POSTS = """
INSERT INTO posts (post_id, subreddit, title, author, created_utc, last_observed_at, score,
                   num_comments, upvote_ratio, url, permalink, over_18, sentiment,
                   score_velocity, comment_velocity, trending_score, is_trending,
                   comments_seen, comment_sentiment)
SELECT DISTINCT ON (t.post_id)
       t.post_id, t.subreddit, t.title, t.author, to_timestamp(t.created_utc), to_timestamp(t.observed_at),
       t.score, t.num_comments, t.upvote_ratio, t.url, t.permalink, t.over_18, t.sentiment,
       t.score_velocity, t.comment_velocity, t.trending_score, t.is_trending,
       c.n, c.mean
  FROM json_to_recordset(%(rows)s::json)
       AS t({columns})
  -- comments that came before their post: its counts from the start (an update keeps the row's own)
  CROSS JOIN LATERAL (SELECT count(*) AS n, avg(sentiment) AS mean FROM comments WHERE post_id = t.post_id) c
 ORDER BY t.post_id, t.observed_at DESC
ON CONFLICT (post_id) DO UPDATE SET
       subreddit = EXCLUDED.subreddit, title = EXCLUDED.title, author = EXCLUDED.author,
       created_utc = EXCLUDED.created_utc, last_observed_at = EXCLUDED.last_observed_at,
       score = EXCLUDED.score, num_comments = EXCLUDED.num_comments,
       upvote_ratio = EXCLUDED.upvote_ratio, url = EXCLUDED.url, permalink = EXCLUDED.permalink,
       over_18 = EXCLUDED.over_18, sentiment = EXCLUDED.sentiment,
       score_velocity = EXCLUDED.score_velocity, comment_velocity = EXCLUDED.comment_velocity,
       trending_score = EXCLUDED.trending_score, is_trending = EXCLUDED.is_trending
 WHERE posts.last_observed_at < EXCLUDED.last_observed_at
"""

INSERT_HISTORY = """
INSERT INTO post_metrics_history (post_id, observed_at, subreddit, score, num_comments,
                                  upvote_ratio, score_velocity, comment_velocity)
-- no velocity for a first or an out-of-order observation: NULL, not a fake 0
SELECT t.post_id, to_timestamp(t.observed_at), t.subreddit, t.score, t.num_comments, t.upvote_ratio,
       CASE WHEN t.has_velocity THEN t.score_velocity END, CASE WHEN t.has_velocity THEN t.comment_velocity END
  FROM json_to_recordset(%(rows)s::json)
       AS t({columns})
 -- history that retention would delete at once is not written (e.g. an old backfilled observation)
 WHERE t.observed_at >= %(keep_after)s
ON CONFLICT (post_id, observed_at) DO NOTHING
"""
UPSERT_POSTS, INSERT_HISTORY = (sql.replace("{columns}", recordset_columns()) for sql in (UPSERT_POSTS, INSERT_HISTORY))

UPSERT_COMMENTS = """
INSERT INTO comments (comment_id, post_id, parent_id, subreddit, author, body, score, created_utc,
                      sentiment, observed_at)
SELECT DISTINCT ON (t.comment_id)
       t.comment_id, t.post_id, t.parent_id, t.subreddit, t.author, t.body, t.score,
       to_timestamp(t.created_utc), t.sentiment, to_timestamp(t.observed_at)
  FROM json_to_recordset(%(rows)s::json)
       AS t({columns})
 -- a comment that retention would delete at once is not written (an old backfilled one)
 WHERE t.created_utc >= %(keep_after)s
 ORDER BY t.comment_id, t.observed_at DESC
ON CONFLICT (comment_id, created_utc) DO UPDATE SET
       author = EXCLUDED.author, body = EXCLUDED.body, score = EXCLUDED.score,
       sentiment = EXCLUDED.sentiment, observed_at = EXCLUDED.observed_at
 WHERE comments.observed_at < EXCLUDED.observed_at
""".replace("{columns}", recordset_columns(CommentRow))

# The per-post aggregates of the batch's posts, recomputed from their rows in `comments`.
UPDATE_POST_COMMENTS = """
UPDATE posts p SET comments_seen = s.n, comment_sentiment = s.mean
  FROM (SELECT c.post_id, count(*) AS n, avg(c.sentiment) AS mean
          FROM comments c
         WHERE c.post_id = ANY (%(post_ids)s::text[])
         GROUP BY c.post_id) s
 WHERE p.post_id = s.post_id
   AND (p.comments_seen, p.comment_sentiment) IS DISTINCT FROM (s.n::int, s.mean)
"""

INSERT_DEAD = """
INSERT INTO dlq_events (source_topic, "partition", "offset", key, payload, payload_encoding,
                        error_type, error, failed_at, attempt, worker, item)
SELECT t.source_topic, t.partition, t.offset, t.key, t.payload, t.payload_encoding, t.error_type,
       t.error, to_timestamp(t.failed_at), t.attempt, t.worker, t.item
  FROM unnest(%s::text[], %s::int[], %s::int8[], %s::text[], %s::text[], %s::text[], %s::text[],
              %s::text[], %s::float8[], %s::int[], %s::text[], %s::int[])
       AS t(source_topic, partition, "offset", key, payload, payload_encoding, error_type, error,
            failed_at, attempt, worker, item)
ON CONFLICT (source_topic, "partition", "offset", item) DO NOTHING
"""

CONTENT_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError)


@dataclass
class Item:
    """One message of a batch: its row, or (already) its dead letter; `meta` rebuilds a dead letter."""

    row: ObservationRow | CommentRow | None
    dead: DeadRow | None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class WriteResult:
    rows: int = 0
    dead: list[DeadRow] = field(default_factory=list)
    statements: int = 0


async def _write_rows(
    conn: psycopg.AsyncConnection, rows: Sequence[ObservationRow | CommentRow], res: WriteResult, keep_after: float
) -> None:
    posts = [r for r in rows if type(r) is ObservationRow]
    comments = [r for r in rows if type(r) is CommentRow]
    if comments:
        await conn.execute(UPSERT_COMMENTS, {"rows": rows_json(comments), "keep_after": keep_after})
        res.statements += 1
    if posts:
        params = {"rows": rows_json(posts), "keep_after": keep_after}
        await conn.execute(UPSERT_POSTS, params)
        await conn.execute(INSERT_HISTORY, params)
        res.statements += 2
    if comments:
        post_ids = sorted({r._asdict()["post_id"] for r in comments})
        await conn.execute(UPDATE_POST_COMMENTS, {"post_ids": post_ids})
        res.statements += 1


async def write_dead(conn: psycopg.AsyncConnection, dead: Sequence[DeadRow]) -> None:
    await conn.execute(INSERT_DEAD, dead_columns(dead))


async def _isolate(
    conn: psycopg.AsyncConnection, items: Sequence[Item], res: WriteResult, now: float, keep_after: float
) -> None:
    """Write `items`' rows, each half in a savepoint; the rows PostgreSQL rejects become dead letters."""
    if not items:
        return
    try:
        async with conn.transaction():  # a savepoint inside the flush's transaction
            await _write_rows(conn, [i.row for i in items if i.row is not None], res, keep_after)
        res.rows += len(items)
        return
    except CONTENT_ERRORS as exc:
        if len(items) == 1:
            item = items[0]
            item.dead = dead_row_for(item, exc, now)
            item.row = None
            res.dead.append(item.dead)
            return
    left, right = halves(items)
    await _isolate(conn, left, res, now, keep_after)
    await _isolate(conn, right, res, now, keep_after)


def dead_row_for(item: Item, exc: BaseException, now: float) -> DeadRow:
    from streams.db.rows import dead_row

    m = item.meta
    # an element of a batch message is dead-lettered with its own bytes, not the whole batch's
    raw = m["spans"][m["item"]] if "spans" in m else m.get("raw")
    # batch messages have no key of their own: the element's post id is its key (a replay keeps
    # the post's observations in one partition)
    key = m.get("key") or (item.row._asdict()["post_id"] if item.row is not None else None)
    return dead_row(
        topic=m.get("topic", ""),
        partition=m.get("partition", -1),
        offset=m.get("offset", -1),
        key=key,
        raw=raw,
        exc=exc,
        failed_at=now,
        worker=m.get("worker", ""),
        attempt=m.get("attempt", 1),
        item=m.get("item", 0),
    )


async def write_batch(
    conn: psycopg.AsyncConnection, items: Sequence[Item], *, retention_days: float | None = None
) -> WriteResult:
    """Commit `items` (rows and dead letters) in one transaction; split out rows PostgreSQL rejects.

    With `retention_days`, an observation older than that goes to `posts` (if it is the post's
    newest) but not to `post_metrics_history`, where retention would delete it at once.

    The connection must not be in a transaction. Returns what was written. Raises on anything
    but a content error (the caller retries the batch; nothing of it is committed).
    """
    keep_after = 0.0 if retention_days is None else time.time() - retention_days * 86400.0
    rows = [i.row for i in items if i.row is not None]
    dead = [i.dead for i in items if i.dead is not None]
    res = WriteResult()
    try:
        async with conn.transaction():
            if rows:
                await _write_rows(conn, rows, res, keep_after)
            if dead:
                await write_dead(conn, dead)
                res.statements += 1
        res.rows, res.dead = len(rows), dead
        return res
    except CONTENT_ERRORS:
        pass
    # Some row was refused: write again, isolating the refused rows by bisection.
    res = WriteResult()
    now = time.time()
    async with conn.transaction():
        await _isolate(conn, [i for i in items if i.row is not None], res, now, keep_after)
        dead = [i.dead for i in items if i.dead is not None]
        if dead:
            await write_dead(conn, dead)
            res.statements += 1
    res.dead = dead
    return res
