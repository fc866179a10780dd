"""The API's SQL (docs/design.md §5, §6): each read one statement, on what both storage paths provide.

Every function takes a `WebDatabase` (web.db) and returns JSON-ready dicts: timestamps as ISO
8601 UTC strings. Only `posts`, `post_metrics_history`, `comments`, `dlq_events`,
`post_metrics_hourly` and `comment_metrics_hourly` are used, so the TimescaleDB and the
plain-PostgreSQL paths answer the same.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from web import cursor
from web.db import WebDatabase
from web.params import POST_ID

POST_COLUMNS = (
    "post_id, subreddit, title, author, created_utc, score, num_comments, upvote_ratio, sentiment, "
    "score_velocity, comment_velocity, trending_score, is_trending, url, permalink, last_observed_at, "
    "comments_seen, comment_sentiment"
)
COMMENT_COLUMNS = "comment_id, post_id, parent_id, subreddit, author, body, score, created_utc, sentiment"


def iso(ts: datetime | None) -> str | None:
    """`2026-12-02T11:19:49.123456Z` (UTC, always six digits of microseconds: the same text as
    `iso_sql`)."""
    if ts is None:
        return None
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_sql(column: str) -> str:
    """The SQL of `iso()`."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def json_object(columns: str, times: tuple[str, ...]) -> str:
    """The SQL of a JSON object of `columns` (comma-separated), the `times` among them as ISO text."""
    return (
        "json_build_object(" + ", ".join(f"'{c}', {iso_sql(c) if c in times else c}" for c in columns.split(", ")) + ")"
    )


# A post (a comment) object built by PostgreSQL: pages travel as one JSON text, never as Python rows
# (building 50 dicts of 16 values and serializing them again cost most of a request's CPU).
POST_JSON = json_object(POST_COLUMNS, ("created_utc", "last_observed_at"))
COMMENT_JSON = json_object(COMMENT_COLUMNS, ("created_utc",))


def post_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {
        k: row[k]
        for k in (
            "post_id",
            "subreddit",
            "title",
            "author",
            "score",
            "num_comments",
            "upvote_ratio",
            "sentiment",
            "score_velocity",
            "comment_velocity",
            "trending_score",
            "is_trending",
            "url",
            "permalink",
            "comments_seen",
            "comment_sentiment",
        )
    }
    out["created_utc"] = iso(row["created_utc"])
    out["last_observed_at"] = iso(row["last_observed_at"])
    return out


# ------------------------------------------------------------------ /api/stats/

# One statement: every figure of the stats object. The 24-hour counts read the covering index
# ix_posts_stats (created_utc INCLUDE subreddit, author, sentiment); trending reads the partial
# index ix_posts_trending.
STATS = """
WITH recent AS (
    SELECT subreddit, author, sentiment FROM posts WHERE created_utc >= now() - interval '24 hours'
), recent_comments AS (
    SELECT count(*) AS n, avg(sentiment) AS mean FROM comments WHERE created_utc >= now() - interval '24 hours'
), top_subreddits AS (
    SELECT subreddit, count(*) AS posts FROM recent GROUP BY subreddit ORDER BY posts DESC, subreddit LIMIT %(top)s
), top_authors AS (
    SELECT author, count(*) AS posts FROM recent WHERE author IS NOT NULL
     GROUP BY author ORDER BY posts DESC, author LIMIT %(top)s
)
SELECT (SELECT count(*) FROM posts)                                        AS total_posts,
       (SELECT count(*) FROM recent)                                       AS posts_last_24h,
       (SELECT count(*) FROM post_metrics_history
         WHERE observed_at >= now() - interval '24 hours')                 AS observations_last_24h,
       (SELECT avg(sentiment) FROM recent)                                 AS avg_sentiment_24h,
       (SELECT n FROM recent_comments)                                     AS comments_last_24h,
       (SELECT mean FROM recent_comments)                                  AS avg_comment_sentiment_24h,
       (SELECT count(*) FROM posts WHERE is_trending
           AND last_observed_at >= now() - make_interval(secs => %(ttl)s)) AS trending_now,
       (SELECT coalesce(json_agg(json_build_object('subreddit', subreddit, 'posts', posts)
                                 ORDER BY posts DESC, subreddit), '[]'::json) FROM top_subreddits) AS top_subreddits,
       (SELECT coalesce(json_agg(json_build_object('author', author, 'posts', posts)
                                 ORDER BY posts DESC, author), '[]'::json) FROM top_authors)     AS top_authors,
       now() AS generated_at
"""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


async def stats(db: WebDatabase, *, ttl_seconds: float, top: int = 10) -> dict[str, Any]:
    row = await db.fetch_one("stats", STATS, {"ttl": ttl_seconds, "top": top})
    assert row is not None
    avg = row["avg_sentiment_24h"]
    return {
        "total_posts": row["total_posts"],
        "posts_last_24h": row["posts_last_24h"],
        "observations_last_24h": row["observations_last_24h"],
        "avg_sentiment_24h": None if avg is None else float(avg),
        "comments_last_24h": row["comments_last_24h"],
        "avg_comment_sentiment_24h": _float(row["avg_comment_sentiment_24h"]),
        "trending_now": row["trending_now"],
        "top_subreddits": row["top_subreddits"],
        "top_authors": row["top_authors"],
        "generated_at": iso(row["generated_at"]),
    }


# ------------------------------------------------------------------ /api/posts/


def keyset_page_sql(*, columns: str, table: str, time_col: str, id_col: str, json_obj: str) -> str:
    """A page newest first on (`time_col`, `id_col`) as one JSON text (`items`), whether a next
    page exists (`more`: one row more than the page is read) and the last row's key
    (`last_us`, `last_id`) for its cursor. `{where}` is left to fill; `%(limit)s` is a parameter."""
    order = f"{time_col} DESC, {id_col} DESC"
    return f"""
WITH page AS (
    SELECT *, row_number() OVER (ORDER BY {order}) AS n
      FROM (SELECT {columns} FROM {table} WHERE {{where}} ORDER BY {order} LIMIT %(limit)s + 1) p
)
SELECT coalesce(json_agg({json_obj} ORDER BY n) FILTER (WHERE n <= %(limit)s), '[]')::text AS items,
       coalesce(max(n) > %(limit)s, false) AS more,
       max((extract(epoch FROM {time_col}) * 1000000)::bigint) FILTER (WHERE n = %(limit)s) AS last_us,
       max({id_col}) FILTER (WHERE n = %(limit)s) AS last_id
  FROM page
"""


def page_body(field: str, row: dict[str, Any], kind: str) -> bytes:
    """`{"<field>": [...], "next_cursor": ...}` as JSON bytes, from a `keyset_page_sql` row."""
    nxt = cursor.encode(kind, row["last_us"], row["last_id"]) if row["more"] else None
    return b'{"' + field.encode() + b'":' + row["items"].encode() + b',"next_cursor":' + json.dumps(nxt).encode() + b"}"


# Keyset pagination, newest first on (created_utc, post_id): the row comparison is an index
# condition on ix_posts_keyset / ix_posts_subreddit_keyset, so a page costs its LIMIT rows
# whatever its depth, and ties on created_utc are broken by post_id (no duplicates, no skips).
PAGE = keyset_page_sql(
    columns=POST_COLUMNS, table="posts", time_col="created_utc", id_col="post_id", json_obj=POST_JSON
)


def _page_sql(subreddit: str | None, after: bool) -> str:
    # One statement per shape (not `x IS NULL OR …` conditions), so that each plan can use its index.
    where = ["subreddit = %(subreddit)s"] if subreddit else []
    if after:
        where.append("(created_utc, post_id) < (%(after_ts)s, %(after_id)s)")
    return PAGE.format(where=" AND ".join(where) or "true")


async def posts_page(db: WebDatabase, *, subreddit: str | None, limit: int, after: str | None) -> bytes:
    """`{"posts": [...], "next_cursor": ...}` as JSON bytes."""
    params: dict[str, Any] = {"subreddit": subreddit, "limit": limit}
    if after is not None:
        after_ts, after_id = cursor.time_key(after, "posts", str, id_ok=lambda v: POST_ID.fullmatch(v) is not None)
        params.update(after_ts=after_ts, after_id=after_id)
    row = await db.fetch_one("posts_page", _page_sql(subreddit, after is not None), params)
    assert row is not None
    return page_body("posts", row, "posts")


POST = f"""
SELECT p.*, coalesce((
    SELECT json_agg(json_build_object(
               'observed_at', {iso_sql("h.observed_at")},
               'score', h.score, 'num_comments', h.num_comments, 'upvote_ratio', h.upvote_ratio,
               'score_velocity', h.score_velocity, 'comment_velocity', h.comment_velocity)
           ORDER BY h.observed_at)
      FROM (SELECT * FROM post_metrics_history WHERE post_id = %(post_id)s
             ORDER BY observed_at DESC LIMIT %(history)s) h), '[]'::json) AS history,
  coalesce((
    -- the post's comments per minute (of their created_utc) and their mean sentiment
    SELECT json_agg(json_build_object(
               'minute', {iso_sql("m.minute")}, 'comments', m.comments, 'sentiment', m.sentiment)
           ORDER BY m.minute)
      FROM (SELECT date_trunc('minute', created_utc) AS minute, count(*) AS comments, avg(sentiment) AS sentiment
              FROM comments WHERE post_id = %(post_id)s
             GROUP BY 1 ORDER BY 1 DESC LIMIT %(history)s) m), '[]'::json) AS comment_history
  FROM (SELECT {POST_COLUMNS} FROM posts WHERE post_id = %(post_id)s) p
"""


async def post_detail(db: WebDatabase, post_id: str, *, history: int = 2000) -> dict[str, Any] | None:
    row = await db.fetch_one("post_detail", POST, {"post_id": post_id, "history": history})
    if row is None:
        return None
    return {**post_json(row), "history": row["history"], "comment_history": row["comment_history"]}


# ------------------------------------------------------------------ /api/posts/{id}/comments/

# Newest first on (created_utc, comment_id), one post's: an index condition on ix_comments_post.
COMMENTS_PAGE = keyset_page_sql(
    columns=COMMENT_COLUMNS, table="comments", time_col="created_utc", id_col="comment_id", json_obj=COMMENT_JSON
)


async def comments_page(db: WebDatabase, post_id: str, *, limit: int, after: str | None) -> bytes:
    """`{"comments": [...], "next_cursor": ...}` as JSON bytes: a post's comments, whether or not
    the post itself has been seen."""
    where = ["post_id = %(post_id)s"]
    params: dict[str, Any] = {"post_id": post_id, "limit": limit}
    if after is not None:
        after_ts, after_id = cursor.time_key(after, "comments", str, id_ok=lambda v: POST_ID.fullmatch(v) is not None)
        params.update(after_ts=after_ts, after_id=after_id)
        where.append("(created_utc, comment_id) < (%(after_ts)s, %(after_id)s)")
    row = await db.fetch_one("comments_page", COMMENTS_PAGE.format(where=" AND ".join(where)), params)
    assert row is not None
    return page_body("comments", row, "comments")


# ------------------------------------------------------------------ /api/trending/

TRENDING = f"""
SELECT coalesce(json_agg({POST_JSON} ORDER BY trending_score DESC, post_id), '[]')::text AS posts
  FROM (SELECT {POST_COLUMNS} FROM posts
         WHERE is_trending AND last_observed_at >= now() - make_interval(secs => %(ttl)s) {{subreddit}}
         ORDER BY trending_score DESC, post_id LIMIT %(limit)s) t
"""


async def trending(db: WebDatabase, *, subreddit: str | None, limit: int, ttl_seconds: float) -> bytes:
    """`{"posts": [...]}` as JSON bytes."""
    sql = TRENDING.format(subreddit="AND subreddit = %(subreddit)s" if subreddit else "")
    row = await db.fetch_one("trending", sql, {"ttl": ttl_seconds, "limit": limit, "subreddit": subreddit})
    assert row is not None
    return b'{"posts":' + row["posts"].encode() + b"}"


# ------------------------------------------------------------------ /api/subreddits/

SUBREDDITS = """
WITH recent AS (
    SELECT subreddit, count(*) AS posts_24h, avg(sentiment) AS avg_sentiment_24h
      FROM posts WHERE created_utc >= now() - interval '24 hours' GROUP BY subreddit
), trending AS (
    SELECT subreddit, count(*) AS trending_now FROM posts
     WHERE is_trending AND last_observed_at >= now() - make_interval(secs => %(ttl)s) GROUP BY subreddit
), hourly AS (
    -- the posts' and the comments' hourly aggregates, hour by hour (an hour may have only one of them)
    SELECT subreddit, json_agg(json_build_object(
               'hour', to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               'observations', coalesce(observations, 0), 'avg_score', avg_score,
               'avg_score_velocity', avg_score_velocity, 'comments', coalesce(comments, 0),
               'avg_comment_sentiment', avg_sentiment) ORDER BY bucket) AS hourly
      FROM (SELECT bucket, subreddit, observations, avg_score, avg_score_velocity FROM post_metrics_hourly
             WHERE bucket >= date_trunc('hour', now()) - interval '23 hours') h
      FULL JOIN (SELECT bucket, subreddit, comments, avg_sentiment FROM comment_metrics_hourly
                  WHERE bucket >= date_trunc('hour', now()) - interval '23 hours') c USING (bucket, subreddit)
     GROUP BY subreddit
)
SELECT s.subreddit, coalesce(r.posts_24h, 0) AS posts_24h, r.avg_sentiment_24h,
       coalesce(t.trending_now, 0) AS trending_now, coalesce(h.hourly, '[]'::json) AS hourly
  FROM (SELECT subreddit FROM recent UNION SELECT subreddit FROM trending UNION SELECT subreddit FROM hourly) s
  LEFT JOIN recent r USING (subreddit) LEFT JOIN trending t USING (subreddit) LEFT JOIN hourly h USING (subreddit)
 ORDER BY posts_24h DESC, s.subreddit
"""


async def subreddits(db: WebDatabase, *, ttl_seconds: float) -> list[dict[str, Any]]:
    rows = await db.fetch("subreddits", SUBREDDITS, {"ttl": ttl_seconds})
    return [
        {
            "subreddit": r["subreddit"],
            "posts_24h": r["posts_24h"],
            "avg_sentiment_24h": None if r["avg_sentiment_24h"] is None else float(r["avg_sentiment_24h"]),
            "trending_now": r["trending_now"],
            "hourly": r["hourly"],
        }
        for r in rows
    ]
