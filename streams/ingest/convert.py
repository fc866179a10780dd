"""An asyncpraw Submission (or the raw `t3` JSON `data`) → `PostSnapshot` (pure)."""

from __future__ import annotations

from typing import Any

from streams.records import PostSnapshot


def _getter(post: Any):
    if isinstance(post, dict):
        return post.get
    return lambda name, default=None: getattr(post, name, default)


def to_snapshot(post: Any, observed_at: float, source: str, selftext_max: int) -> PostSnapshot:
    get = _getter(post)
    author = get("author")
    author = None if author is None or str(author) in ("", "[deleted]") else str(author)
    subreddit = get("subreddit")
    subreddit = getattr(subreddit, "display_name", None) or str(subreddit)
    ratio = float(get("upvote_ratio", 0.0) or 0.0)
    return PostSnapshot(
        id=str(get("id")).removeprefix("t3_"),
        subreddit=subreddit,
        title=str(get("title", "")),
        selftext=str(get("selftext", "") or "")[:selftext_max],
        author=author,
        created_utc=float(get("created_utc")),
        observed_at=float(observed_at),
        score=int(get("score", 0) or 0),
        num_comments=max(int(get("num_comments", 0) or 0), 0),
        upvote_ratio=min(max(ratio, 0.0), 1.0),
        url=str(get("url", "") or ""),
        permalink=str(get("permalink", "") or ""),
        over_18=bool(get("over_18", False)),
        source=source,
    )


def to_comment(comment: Any, observed_at: float, body_max: int) -> dict[str, Any]:
    """An asyncpraw Comment (or the raw `t1` JSON `data`) → the fields of a `CommentSnapshot`
    (streams.records.comment_fields validates and normalises them: a `[deleted]` / `[removed]` body
    or author becomes None). asyncpraw gives a deleted author as None and the subreddit as an object."""
    get = _getter(comment)
    author = get("author")
    subreddit = get("subreddit")
    body = get("body")
    link_id = str(get("link_id"))
    return {
        "id": str(get("id")).removeprefix("t1_"),
        "post_id": link_id.removeprefix("t3_"),
        "parent_id": str(get("parent_id") or link_id),
        "subreddit": getattr(subreddit, "display_name", None) or str(subreddit),
        "author": None if author is None else str(author),
        "body": None if body is None else str(body)[:body_max],
        "score": int(get("score", 0) or 0),
        "created_utc": float(get("created_utc")),
        "observed_at": float(observed_at),
        "source": "new",
    }
