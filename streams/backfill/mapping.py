"""A dump line → the fields of a `PostSnapshot` with `source: "backfill"` (pure).

Both dump generations map the same way:
- `created_utc` is a number (newer files) or a numeric string (older Pushshift files);
- `upvote_ratio` is absent from older files: `UPVOTE_RATIO_DEFAULT` (1.0: the ratio Reddit
  shows for a post nobody downvoted; a documented default, not a measurement);
- author `[deleted]` (or absent) → `None`;
- `observed_at` is when the archive fetched the post: `_meta.retrieved_2nd_on` when present
  (newer Arctic Shift files re-fetch posts later and carry that second fetch's score and
  comments), else `retrieved_on` / `retrieved_utc`, else `created_utc`;
- `selftext` is cut to SELFTEXT_MAX_CHARS, as ingest does;
- `id` may come as `t3_…` (`name`) or bare.

A comment line (`RC_YYYY-MM.zst`, `<name>_comments.zst`) maps to the fields of a
`CommentSnapshot`: a line is a comment when it has a `link_id` (no submission has one), whatever
the file's name. `link_id` loses its `t3_` (the post id), `id` a `t1_`; `parent_id` stays a full
name (`link_id` when absent); a `[deleted]` / `[removed]` body or author is None; the body is cut
to COMMENT_BODY_MAX_CHARS; `created_utc` and `observed_at` as for submissions.

A line that cannot be mapped raises `BadLine` whose `reason` is one of a few fixed words, so
the summary can count bad lines by reason.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

UPVOTE_RATIO_DEFAULT = 1.0
_POST_ID = re.compile(r"^[0-9a-z]{1,13}$")
_PARENT_ID = re.compile(r"^t[13]_[0-9a-z]{1,13}$")


class BadLine(ValueError):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise BadLine("bad_type", f"{field} is a boolean")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise BadLine("bad_type", f"{field} {value[:30]!r} is not a number") from None
    else:
        raise BadLine("bad_type", f"{field} is {type(value).__name__}")
    if not math.isfinite(number):
        raise BadLine("bad_type", f"{field} is not finite")
    return number


def _int(value: Any, field: str, default: int = 0) -> int:
    if value is None:
        return default
    return int(_number(value, field))


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadLine("bad_type", f"{field} is {type(value).__name__}")
    return value


def observed_at_of(data: dict, created: float) -> float:
    meta = data.get("_meta")
    if isinstance(meta, dict) and meta.get("retrieved_2nd_on") is not None:
        return _number(meta["retrieved_2nd_on"], "_meta.retrieved_2nd_on")
    for name in ("retrieved_on", "retrieved_utc"):
        if data.get(name) is not None:
            return _number(data[name], name)
    return created


def parse(line: bytes) -> dict:
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadLine("not_json", str(exc)[:80]) from None
    if not isinstance(data, dict):
        raise BadLine("not_object", type(data).__name__)
    return data


def to_fields(data: dict, selftext_max: int) -> dict[str, Any]:
    """The `PostSnapshot` fields of one submission (validated like `streams.records`)."""
    for required in ("id", "title", "subreddit"):
        if data.get(required) in (None, ""):
            raise BadLine(f"missing_{required}")
    pid = data["id"]
    if not isinstance(pid, str):
        raise BadLine("bad_type", "id is not a string")
    pid = pid.removeprefix("t3_")
    if not _POST_ID.match(pid):
        raise BadLine("bad_id", pid[:20])
    if data.get("created_utc") is None:
        raise BadLine("missing_created_utc")
    created = _number(data["created_utc"], "created_utc")
    if created <= 0:
        raise BadLine("bad_type", "created_utc is not a positive epoch")
    observed = max(observed_at_of(data, created), created)
    author = data.get("author")
    if author is not None and not isinstance(author, str):
        raise BadLine("bad_type", "author is not a string")
    ratio = data.get("upvote_ratio")
    ratio = UPVOTE_RATIO_DEFAULT if ratio is None else min(max(_number(ratio, "upvote_ratio"), 0.0), 1.0)
    over_18 = data.get("over_18", False)
    return {
        "id": pid,
        "subreddit": _text(data["subreddit"], "subreddit"),
        "title": _text(data["title"], "title"),
        "selftext": _text(data.get("selftext"), "selftext")[:selftext_max],
        "author": None if author in (None, "", "[deleted]") else author,
        "created_utc": created,
        "observed_at": observed,
        "score": _int(data.get("score"), "score"),
        "num_comments": max(_int(data.get("num_comments"), "num_comments"), 0),
        "upvote_ratio": ratio,
        "url": _text(data.get("url"), "url"),
        "permalink": _text(data.get("permalink"), "permalink"),
        "over_18": over_18 if isinstance(over_18, bool) else False,
        "source": "backfill",
    }


def is_comment(data: dict) -> bool:
    """A comment, not a submission: chosen by the line's content, not the file's name."""
    return "link_id" in data


GONE = ("[deleted]", "[removed]")


def comment_fields(data: dict, body_max: int) -> dict[str, Any]:
    """The `CommentSnapshot` fields of one comment line (validated like `streams.records`)."""
    for required in ("id", "link_id", "subreddit"):
        if data.get(required) in (None, ""):
            raise BadLine(f"missing_{required}")
    cid, link = data["id"], data["link_id"]
    parent = data.get("parent_id") or link
    if not all(isinstance(v, str) for v in (cid, link, parent)):
        raise BadLine("bad_type", "id, link_id or parent_id is not a string")
    cid, pid = cid.removeprefix("t1_"), link.removeprefix("t3_")
    if not _POST_ID.match(cid) or not _POST_ID.match(pid) or not _PARENT_ID.match(parent):
        raise BadLine("bad_id", f"{cid[:20]} {link[:20]} {parent[:20]}")
    if data.get("created_utc") is None:
        raise BadLine("missing_created_utc")
    created = _number(data["created_utc"], "created_utc")
    if created <= 0:
        raise BadLine("bad_type", "created_utc is not a positive epoch")
    author, body = data.get("author"), data.get("body")
    if author is not None and not isinstance(author, str):
        raise BadLine("bad_type", "author is not a string")
    body = _text(body, "body") if body is not None else None
    return {
        "id": cid,
        "post_id": pid,
        "parent_id": parent,
        "subreddit": _text(data["subreddit"], "subreddit"),
        "author": None if author in (None, "", *GONE) else author,
        "body": None if body is None or body in GONE else body[:body_max],
        "score": _int(data.get("score"), "score"),
        "created_utc": created,
        "observed_at": max(observed_at_of(data, created), created),
        "source": "backfill",
    }


class Filter:
    """`--subreddits` (case-insensitive, as Reddit treats names), `--since` / `--until` on
    created_utc (since inclusive, until exclusive)."""

    def __init__(
        self, subreddits: tuple[str, ...] = (), since: float | None = None, until: float | None = None
    ) -> None:
        self.subreddits = {s.lower() for s in subreddits}
        self.since, self.until = since, until

    def wants_subreddit(self, data: dict) -> bool:
        """A cheap look at the raw line's subreddit before it is mapped (most lines of a monthly
        file are other subreddits')."""
        if not self.subreddits:
            return True
        sub = data.get("subreddit")
        return isinstance(sub, str) and sub.lower() in self.subreddits

    def wants(self, fields: dict) -> bool:
        created = fields["created_utc"]
        return (self.since is None or created >= self.since) and (self.until is None or created < self.until)
