"""Pure parts of the sink: raw message → row, dead-letter rows, batch splitting.

No I/O here, so all of it is unit-tested (tests/unit/test_sink_rows.py).
"""

from __future__ import annotations

import base64
import json
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

import orjson

from streams.deadletter import payload_text
from streams.records import (
    COMMENT_FIELDS,
    ENRICHMENT_FIELDS,
    SNAPSHOT_FIELDS,
    InvalidMessage,
    comment_fields,
    observation_fields,
    parse_json,
)

T = TypeVar("T")


# The snapshot fields that are columns of `posts` / `post_metrics_history` (after `post_id`, the
# snapshot's `id`), then every enrichment field: names and types from streams.records.
ROW_SNAPSHOT_FIELDS = (
    "subreddit",
    "title",
    "author",
    "created_utc",
    "observed_at",
    "score",
    "num_comments",
    "upvote_ratio",
    "url",
    "permalink",
    "over_18",
)
_ROW_FIELDS = [("post_id", str), *((n, SNAPSHOT_FIELDS[n]) for n in ROW_SNAPSHOT_FIELDS), *ENRICHMENT_FIELDS.items()]
ObservationRow = NamedTuple("ObservationRow", _ROW_FIELDS)  # type: ignore[misc]  # derived: mypy takes literals only
ObservationRow.__doc__ = "One enriched observation, flattened into the columns of `posts` / `post_metrics_history`."
_row_snapshot_values = operator.itemgetter(*ROW_SNAPSHOT_FIELDS)

# The columns of `comments` (after `comment_id`, the comment's `id`), then its sentiment.
ROW_COMMENT_FIELDS = ("post_id", "parent_id", "subreddit", "author", "body", "score", "created_utc", "observed_at")
_COMMENT_ROW_FIELDS = [
    ("comment_id", str),
    *((n, COMMENT_FIELDS[n]) for n in ROW_COMMENT_FIELDS),
    ("sentiment", float | None),
]
CommentRow = NamedTuple("CommentRow", _COMMENT_ROW_FIELDS)  # type: ignore[misc]  # derived: mypy takes literals only
CommentRow.__doc__ = "One comment on its way to `comments` (with its sentiment: None when its body is gone)."
_row_comment_values = operator.itemgetter(*ROW_COMMENT_FIELDS)


class DeadRow(NamedTuple):
    """One row of `dlq_events`."""

    source_topic: str
    partition: int
    offset: int
    key: str | None
    payload: str
    payload_encoding: str
    error_type: str
    error: str
    failed_at: float
    attempt: int
    worker: str
    item: int = 0  # the element's index when the message was a batch (a JSON array)


class BadObservation(InvalidMessage):
    """A message on the observations topic that is not an Observation."""


class MalformedDeadLetter(ValueError):
    """A message on the DLQ topic that is not a DeadLetter envelope."""


def row_from_json(raw: bytes | str | None) -> ObservationRow | CommentRow:
    """Decode an `Observation` (streams.records) from its JSON bytes.

    Only the structure is checked here (fields present, of the right type). Whether the values
    are acceptable is PostgreSQL's call (CHECK constraints): a row it rejects is split out of its
    batch and dead-lettered by the writer.
    """
    return row_from_data(load_json(raw))


def load_json(raw: bytes | str | None) -> Any:
    return parse_json(raw, BadObservation)


def row_from_data(data: Any) -> ObservationRow | CommentRow:
    """An `Observation` already parsed from JSON → its row (structure checked as in `row_from_json`);
    a comment (`{"comment": …, "sentiment": …}`, streams.records) → its `CommentRow`."""
    if isinstance(data, dict) and "comment" in data:
        return comment_row(data)
    try:
        snap, enrichment = observation_fields(data)
    except InvalidMessage as exc:
        raise BadObservation(str(exc)) from None
    return ObservationRow._make((snap["id"], *_row_snapshot_values(snap), *enrichment))


def comment_row(data: dict) -> CommentRow:
    sentiment = data.get("sentiment")
    if sentiment is not None and (type(sentiment) not in (int, float) or not -1.0 <= sentiment <= 1.0):
        raise BadObservation("field 'sentiment' must be a number in [-1, 1] or null")
    try:
        fields = comment_fields(data["comment"])
    except InvalidMessage as exc:
        raise BadObservation(str(exc)) from None
    return CommentRow._make(
        (fields["id"], *_row_comment_values(fields), None if sentiment is None else float(sentiment))
    )


def dead_row(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | str | None,
    raw: bytes | str | None,
    exc: BaseException,
    failed_at: float,
    worker: str,
    attempt: int = 1,
    item: int = 0,
) -> DeadRow:
    payload, encoding = payload_text(raw)
    encoding = "base64" if encoding == "base64" else "utf-8"  # a tombstone: an empty payload
    if isinstance(key, (bytes, bytearray)):
        key = bytes(key).decode("utf-8", "replace")
    if key is not None:
        key = key.replace("\x00", "")
    return DeadRow(
        topic,
        partition,
        offset,
        key,
        payload,
        encoding,
        type(exc).__name__,
        (str(exc).strip() or repr(exc)).replace("\x00", "")[:2000],
        failed_at,
        attempt,
        worker,
        item,
    )


def dead_row_from_envelope(
    raw: bytes | str | None, *, topic: str, partition: int, offset: int, failed_at: float, worker: str
) -> DeadRow:
    """A `DeadLetter` envelope (JSON, docs/design.md §3) → its `dlq_events` row.

    An envelope that is itself broken is kept too: as a dead letter of the DLQ topic, payload intact.
    """
    try:
        d = json.loads(raw) if raw is not None else None
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        payload = d["payload"]
        if not isinstance(payload, str):
            raise ValueError("'payload' is not a string")
        key = d.get("key")
        enc = d.get("payload_encoding") or "utf-8"
        if enc == "null":  # the envelope of a tombstone: stored as an empty payload
            payload, enc = "", "utf-8"
        if enc not in ("utf-8", "base64"):
            raise ValueError(f"unknown payload_encoding {enc!r}")
        if "\x00" in payload:
            payload, enc = base64.b64encode(payload.encode("utf-8", "surrogateescape")).decode(), "base64"
        return DeadRow(
            str(d["source_topic"]),
            int(d["partition"]),
            int(d["offset"]),
            None if key is None else str(key).replace("\x00", ""),
            payload,
            enc,
            str(d.get("error_type") or "Unknown").replace("\x00", ""),
            str(d.get("error") or "").replace("\x00", ""),
            float(d.get("failed_at") or failed_at),
            max(1, int(d.get("attempt") or 1)),
            str(d.get("worker") or "").replace("\x00", ""),
            max(0, int(d.get("item") or 0)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return dead_row(
            topic=topic,
            partition=partition,
            offset=offset,
            key=None,
            raw=raw,
            exc=MalformedDeadLetter(str(exc)),
            failed_at=failed_at,
            worker=worker,
        )


def halves(items: Sequence[T]) -> tuple[Sequence[T], Sequence[T]]:
    """Split policy for isolating rejected rows: bisect (a bad row costs O(log n) statements)."""
    mid = (len(items) + 1) // 2
    return items[:mid], items[mid:]


# ------------------------------------------------------------- the rows as the SQL takes them


def rows_json(rows: Sequence[ObservationRow] | Sequence[CommentRow]) -> str:
    """The rows as one JSON array of objects (fields by name), for `json_to_recordset` in the SQL."""
    return orjson.dumps([r._asdict() for r in rows]).decode()


def dead_columns(rows: Sequence[DeadRow]) -> list[list]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in DeadRow._fields]
