"""The records on the wire (docs/design.md §3) and their strict decoding.

Topics carry raw bytes; the agents decode them themselves (:func:`decode_snapshot_fields`, the
sink :func:`observation_fields`) so that a message that cannot be decoded or validated is
dead-lettered with its original bytes instead of crashing the stream inside faust's
deserializer. The records below are the one definition of the fields; everything else that
lists them is derived from them.
"""

from __future__ import annotations

import json
import math
import re
import typing
from types import UnionType
from typing import Any

import faust
import orjson

SOURCES = ("new", "refresh", "backfill")
COMMENT_SOURCES = ("new", "backfill")
# Reddit refuses a comment body longer than 10,000 characters: the longest body a comment has,
# and the cut ingest and the backfill apply (`COMMENT_BODY_MAX_CHARS` may lower it).
COMMENT_BODY_LIMIT = 10_000
# What Reddit shows in place of the body (and author) of a deleted or a removed comment
GONE = ("[deleted]", "[removed]")
_POST_ID = re.compile(r"^[0-9a-z]{1,13}$")
_PARENT_ID = re.compile(r"^t[13]_[0-9a-z]{1,13}$")


class InvalidMessage(ValueError):
    """A message that is not a valid record; the reason says which field and why."""


class PostSnapshot(faust.Record, serializer="json", include_metadata=False):
    """One observation of a post, as the Reddit API answered it."""

    id: str
    subreddit: str
    title: str
    created_utc: float
    observed_at: float
    score: int
    num_comments: int
    upvote_ratio: float
    selftext: str = ""
    author: str | None = None
    url: str = ""
    permalink: str = ""
    over_18: bool = False
    source: str = "new"


class Observation(faust.Record, serializer="json", include_metadata=False):
    """A snapshot enriched by the agents, on its way to the sink."""

    snapshot: PostSnapshot
    sentiment: float
    score_velocity: float
    comment_velocity: float
    trending_score: float
    is_trending: bool
    has_velocity: bool  # False for a first observation or an out-of-order one


class CommentSnapshot(faust.Record, serializer="json", include_metadata=False):
    """One comment as the Reddit API (or a dump) gave it (docs/design.md §3); keyed by its POST id."""

    id: str  # base-36, no `t1_`
    post_id: str  # base-36, no `t3_` (the comment's `link_id` without its prefix)
    parent_id: str  # the full name: `t3_…` (a top-level comment) or `t1_…` (a reply)
    subreddit: str
    created_utc: float
    observed_at: float
    score: int = 0
    author: str | None = None  # None when deleted
    body: str | None = None  # None when [deleted] / [removed]; at most COMMENT_BODY_LIMIT characters
    source: str = "new"


class DeadLetter(faust.Record, serializer="json", include_metadata=False):
    """The envelope of a message that failed (docs/design.md §3)."""

    source_topic: str
    partition: int
    offset: int
    key: str | None
    payload: str  # the original bytes: utf-8 text, or base64 when payload_encoding == "base64"
    error_type: str
    error: str
    failed_at: float
    attempt: int = 1
    worker: str = ""
    payload_encoding: str = "utf-8"
    item: int = 0  # the element's index when the message was a batch (a JSON array)


# ----------------------------------------------------------------------- the schema, once
# The records above are the one definition of the fields, their types and defaults; the
# decoder's checks, the sink's row (streams.db.rows) and the SQL's column lists
# (streams.db.writer) are derived from them.


def _json_types(annotation: Any) -> tuple[type, ...]:
    """The JSON value types a field of this annotation accepts (an int where a float goes)."""
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        return tuple(t for arg in typing.get_args(annotation) for t in _json_types(arg))
    if annotation is type(None):
        return (type(None),)
    return (int, float) if annotation is float else (annotation,)


def _fields(record: type) -> dict[str, Any]:
    """A record's own fields and their annotations, in declaration order."""
    hints = typing.get_type_hints(record)
    return {name: hints[name] for name in record.__annotations__}


SNAPSHOT_FIELDS: dict[str, Any] = _fields(PostSnapshot)
ENRICHMENT_FIELDS: dict[str, Any] = {n: t for n, t in _fields(Observation).items() if n != "snapshot"}
_REQUIRED: dict[str, tuple[type, ...]] = {
    n: _json_types(t) for n, t in SNAPSHOT_FIELDS.items() if getattr(PostSnapshot, n).required
}
_OPTIONAL: dict[str, tuple[type, ...]] = {
    n: _json_types(t) for n, t in SNAPSHOT_FIELDS.items() if not getattr(PostSnapshot, n).required
}
_DEFAULTS: dict[str, Any] = {n: getattr(PostSnapshot, n).default for n in _OPTIONAL}
_ENRICHMENT_ITEMS = tuple((n, _json_types(t), t is float) for n, t in ENRICHMENT_FIELDS.items())
_REQUIRED_ITEMS = tuple((n, types, SNAPSHOT_FIELDS[n] is float) for n, types in _REQUIRED.items())
_OPTIONAL_FLOATS = tuple(n for n in _OPTIONAL if SNAPSHOT_FIELDS[n] is float)
_OPTIONAL_ITEMS = tuple(_OPTIONAL.items())

COMMENT_FIELDS: dict[str, Any] = _fields(CommentSnapshot)
_COMMENT_REQUIRED_ITEMS = tuple(
    (n, _json_types(t), t is float) for n, t in COMMENT_FIELDS.items() if getattr(CommentSnapshot, n).required
)
_COMMENT_OPTIONAL_ITEMS = tuple(
    (n, _json_types(t)) for n, t in COMMENT_FIELDS.items() if not getattr(CommentSnapshot, n).required
)
_COMMENT_DEFAULTS: dict[str, Any] = {n: getattr(CommentSnapshot, n).default for n, _ in _COMMENT_OPTIONAL_ITEMS}

# ----------------------------------------------------------------------- decoding


def _typed(name: str, value: Any, types: tuple[type, ...]) -> Any:
    # bool is an int subclass: a JSON true is never a score.
    if isinstance(value, bool) and bool not in types:
        raise InvalidMessage(f"field {name!r} must be {'/'.join(t.__name__ for t in types)}, got bool")
    if not isinstance(value, types):
        raise InvalidMessage(
            f"field {name!r} must be {'/'.join(t.__name__ for t in types)}, got {type(value).__name__}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidMessage(f"field {name!r} must be finite")
    return value


def snapshot_from_dict(data: Any) -> PostSnapshot:
    return PostSnapshot(**snapshot_fields(data))


def snapshot_fields(data: Any, *, limits: bool = True) -> dict[str, Any]:
    """The validated, normalised fields of a `PostSnapshot` (defaults filled in) as a plain dict:
    what `PostSnapshot.asdict()` gives, without building the Record (the agents' hot path).
    `limits=False` checks the structure only (fields present, of their types), not the values."""
    if not isinstance(data, dict):
        raise InvalidMessage(f"expected a JSON object, got {type(data).__name__}")
    fields = _required(data, _REQUIRED_ITEMS, dict(_DEFAULTS))
    for name, types in _OPTIONAL_ITEMS:
        if name in data:
            value = data[name]
            if value is None and name != "author":
                continue
            if type(value) not in types:
                value = _typed(name, value, types)
            fields[name] = value
    for name in _OPTIONAL_FLOATS:
        fields[name] = float(fields[name])
    pid = fields["id"]
    if pid.startswith("t3_"):
        pid = fields["id"] = pid[3:]
    if not limits:
        return fields
    if not _POST_ID.match(pid):
        raise InvalidMessage(f"field 'id' {pid[:40]!r} is not a base-36 post id")
    if not fields["subreddit"]:
        raise InvalidMessage("field 'subreddit' is empty")
    if not 0.0 <= fields["upvote_ratio"] <= 1.0:
        raise InvalidMessage(f"field 'upvote_ratio' {fields['upvote_ratio']} is outside [0, 1]")
    if fields["num_comments"] < 0:
        raise InvalidMessage("field 'num_comments' is negative")
    if fields["created_utc"] <= 0 or fields["observed_at"] <= 0:
        raise InvalidMessage("timestamps must be positive epoch seconds")
    if fields["source"] not in SOURCES:
        raise InvalidMessage(f"field 'source' must be one of {', '.join(SOURCES)}")
    return fields


def comment_fields(data: Any) -> dict[str, Any]:
    """The validated, normalised fields of a `CommentSnapshot` as a plain dict (defaults filled
    in; `t1_` / `t3_` prefixes of `id` / `post_id` dropped; a `[deleted]` / `[removed]` body or
    author is None; a body cut to COMMENT_BODY_LIMIT)."""
    if not isinstance(data, dict):
        raise InvalidMessage(f"expected a JSON object, got {type(data).__name__}")
    fields = _required(data, _COMMENT_REQUIRED_ITEMS, dict(_COMMENT_DEFAULTS))
    for name, types in _COMMENT_OPTIONAL_ITEMS:
        value = data.get(name)
        if value is not None:
            fields[name] = value if type(value) in types else _typed(name, value, types)
    cid = fields["id"] = fields["id"].removeprefix("t1_")
    pid = fields["post_id"] = fields["post_id"].removeprefix("t3_")
    if not _POST_ID.match(cid):
        raise InvalidMessage(f"field 'id' {cid[:40]!r} is not a base-36 comment id")
    if not _POST_ID.match(pid):
        raise InvalidMessage(f"field 'post_id' {pid[:40]!r} is not a base-36 post id")
    if not _PARENT_ID.match(fields["parent_id"]):
        raise InvalidMessage(f"field 'parent_id' {fields['parent_id'][:40]!r} is not a t1_/t3_ full name")
    if not fields["subreddit"]:
        raise InvalidMessage("field 'subreddit' is empty")
    if fields["created_utc"] <= 0 or fields["observed_at"] <= 0:
        raise InvalidMessage("timestamps must be positive epoch seconds")
    if fields["source"] not in COMMENT_SOURCES:
        raise InvalidMessage(f"field 'source' must be one of {', '.join(COMMENT_SOURCES)}")
    if fields["author"] in GONE or fields["author"] == "":
        fields["author"] = None
    body = fields["body"]
    if body is not None:
        fields["body"] = None if body in GONE else body[:COMMENT_BODY_LIMIT]
    return fields


def encode_comment_observation(comment: dict[str, Any], sentiment: float | None) -> bytes:
    """The JSON of a comment on its way to the sink: `{"comment": fields, "sentiment": s}` (None
    when the body is gone). It travels on the observations topic next to the posts' `Observation`s."""
    return orjson.dumps({"comment": comment, "sentiment": sentiment})


def observation_fields(data: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """An `Observation` parsed from JSON → (its snapshot's fields, its enrichment values in
    `ENRICHMENT_FIELDS` order), the structure checked (the sink's: whether the values are
    acceptable is PostgreSQL's call, its CHECK constraints)."""
    if not isinstance(data, dict) or not isinstance(data.get("snapshot"), dict):
        raise InvalidMessage("expected an object with a 'snapshot' object")
    return snapshot_fields(data["snapshot"], limits=False), tuple(_required(data, _ENRICHMENT_ITEMS, {}).values())


def _required(
    data: dict, items: tuple[tuple[str, tuple[type, ...], bool], ...], into: dict[str, Any]
) -> dict[str, Any]:
    """`into` with each required field `items` (name, types, is a float) of `data`, present and of
    its types, in `items` order (an int where a float goes becomes the float).

    JSON values have exact built-in types: `type(v) in types` is the fast check (and keeps a
    JSON true out of an int field); anything else goes through `_typed` for its verdict."""
    for name, types, is_float in items:
        value = data.get(name)
        if value is None:
            raise InvalidMessage(f"missing field {name!r}")
        if type(value) not in types or (type(value) is float and not math.isfinite(value)):
            value = _typed(name, value, types)
        into[name] = float(value) if is_float else value
    return into


def encode_observation(snapshot: dict[str, Any], **enrichment: Any) -> bytes:
    """The JSON of an `Observation` of `snapshot` (validated fields) without building the
    Record (the agents' hot path). `enrichment` must be exactly the `ENRICHMENT_FIELDS`: not
    checked here, per event, but by tests/unit/test_records.py over every call in the code."""
    return orjson.dumps({"snapshot": snapshot, **enrichment})


def decode_snapshot(raw: bytes | str | None) -> PostSnapshot:
    """Strictly decode one message value; raise :class:`InvalidMessage` with the reason."""
    return PostSnapshot(**decode_snapshot_fields(raw))


def decode_snapshot_fields(raw: bytes | str | None) -> dict[str, Any]:
    """:func:`decode_snapshot` as a plain dict of the record's fields (see :func:`snapshot_fields`)."""
    return snapshot_fields(parse_json(raw))


def parse_json(raw: bytes | str | None, error: type[InvalidMessage] = InvalidMessage) -> Any:
    """A message's JSON value (orjson: strict, no NaN); `error` with the reason when it is not JSON."""
    if raw is None:
        raise error("empty message (tombstone)")
    try:
        return orjson.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(f"not JSON: {exc}") from None


def encode(record: faust.Record) -> bytes:
    """Compact JSON of a record, the same bytes faust would produce for it."""
    return json.dumps(record.asdict(), separators=(",", ":"), default=_default).encode()


def _default(obj: Any) -> Any:
    if isinstance(obj, faust.Record):
        return obj.asdict()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")
