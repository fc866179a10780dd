"""Pure parts of the sink: raw message → row, dead-letter rows, batch splitting, backoff.

No I/O here, so all of it is unit-tested (tests/unit/test_sink_rows.py).
"""
from __future__ import annotations

import base64
import json
import math
import random
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple, Optional, Sequence, TypeVar

import orjson

T = TypeVar("T")


class ObservationRow(NamedTuple):
    """One enriched observation, flattened into the columns of `posts` / `post_metrics_history`."""

    post_id: str
    subreddit: str
    title: str
    author: Optional[str]
    created_utc: float
    observed_at: float
    score: int
    num_comments: int
    upvote_ratio: float
    url: str
    permalink: str
    over_18: bool
    sentiment: float
    score_velocity: float
    comment_velocity: float
    trending_score: float
    is_trending: bool
    has_velocity: bool


class DeadRow(NamedTuple):
    """One row of `dlq_events`."""

    source_topic: str
    partition: int
    offset: int
    key: Optional[str]
    payload: str
    payload_encoding: str
    error_type: str
    error: str
    failed_at: float
    attempt: int
    worker: str
    item: int = 0  # the element's index when the message was a batch (a JSON array)


class BadObservation(ValueError):
    """A message on the observations topic that is not an Observation."""


class MalformedDeadLetter(ValueError):
    """A message on the DLQ topic that is not a DeadLetter envelope."""


_SNAPSHOT_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,), "subreddit": (str,), "title": (str,), "created_utc": (int, float),
    "observed_at": (int, float), "score": (int,), "num_comments": (int,), "upvote_ratio": (int, float),
}
_ENRICHED_FIELDS: dict[str, tuple[type, ...]] = {
    "sentiment": (int, float), "score_velocity": (int, float), "comment_velocity": (int, float),
    "trending_score": (int, float), "is_trending": (bool,), "has_velocity": (bool,),
}

_SNAPSHOT_ITEMS = tuple(_SNAPSHOT_FIELDS.items())
_ENRICHED_ITEMS = tuple(_ENRICHED_FIELDS.items())


def _field(data: dict, name: str, types: tuple[type, ...], where: str) -> Any:
    value = data.get(name)
    kind = type(value)
    # JSON values have exact built-in types: the fast check (a JSON true is not an int here)
    if kind in types and (kind is not float or math.isfinite(value)):
        return value
    if value is None:
        raise BadObservation(f"missing field {where}{name!r}")
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        raise BadObservation(f"field {where}{name!r} has type {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadObservation(f"field {where}{name!r} is not finite")
    return value


def _opt_str(data: dict, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def row_from_json(raw: bytes | str | None) -> ObservationRow:
    """Decode an `Observation` (streams.records) from its JSON bytes.

    Only the structure is checked here (fields present, of the right type). Whether the values
    are acceptable is PostgreSQL's call (CHECK constraints): a row it rejects is split out of its
    batch and dead-lettered by the writer.
    """
    return row_from_data(load_json(raw))


def load_json(raw: bytes | str | None) -> Any:
    if raw is None:
        raise BadObservation("empty message (tombstone)")
    try:
        return orjson.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadObservation(f"not JSON: {exc}") from None


def element_bytes(element: Any) -> bytes:
    """What a dead letter keeps of one element of a batch message: the element's own JSON."""
    return json.dumps(element).encode()


def row_from_data(data: Any) -> ObservationRow:
    """An `Observation` already parsed from JSON → its row (structure checked as in `row_from_json`)."""
    if not isinstance(data, dict) or not isinstance(data.get("snapshot"), dict):
        raise BadObservation("expected an object with a 'snapshot' object")
    snap = data["snapshot"]
    pid, subreddit, title, created_utc, observed_at, score, num_comments, upvote_ratio = \
        [_field(snap, name, types, "snapshot.") for name, types in _SNAPSHOT_ITEMS]
    sentiment, score_velocity, comment_velocity, trending_score, is_trending, has_velocity = \
        [_field(data, name, types, "") for name, types in _ENRICHED_ITEMS]
    author = snap.get("author")
    return ObservationRow(
        pid[3:] if pid.startswith("t3_") else pid, subreddit, title, author if isinstance(author, str) else None,
        float(created_utc), float(observed_at), score, num_comments, float(upvote_ratio),
        _opt_str(snap, "url"), _opt_str(snap, "permalink"), snap.get("over_18") is True,
        float(sentiment), float(score_velocity), float(comment_velocity), float(trending_score),
        is_trending, has_velocity,
    )


def payload_text(raw: bytes | str | None) -> tuple[str, str]:
    """The original bytes as (text, encoding): utf-8 text when possible, else base64."""
    if raw is None:
        return "", "utf-8"
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        text = raw.decode("utf-8")
        if "\x00" not in text:  # PostgreSQL text cannot hold NUL
            return text, "utf-8"
    except UnicodeDecodeError:
        pass
    return base64.b64encode(raw).decode("ascii"), "base64"


def dead_row(*, topic: str, partition: int, offset: int, key: bytes | str | None, raw: bytes | str | None,
             exc: BaseException, failed_at: float, worker: str, attempt: int = 1, item: int = 0) -> DeadRow:
    payload, encoding = payload_text(raw)
    if isinstance(key, (bytes, bytearray)):
        key = bytes(key).decode("utf-8", "replace")
    if key is not None:
        key = key.replace("\x00", "")
    return DeadRow(topic, partition, offset, key, payload, encoding, type(exc).__name__,
                   (str(exc).strip() or repr(exc)).replace("\x00", "")[:2000], failed_at, attempt, worker, item)


def dead_row_from_envelope(raw: bytes | str | None, *, topic: str, partition: int, offset: int,
                           failed_at: float, worker: str) -> DeadRow:
    """A `DeadLetter` envelope (JSON, DESIGN §3) → its `dlq_events` row.

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
        if enc not in ("utf-8", "base64"):
            raise ValueError(f"unknown payload_encoding {enc!r}")
        if "\x00" in payload:
            payload, enc = base64.b64encode(payload.encode("utf-8", "surrogateescape")).decode(), "base64"
        return DeadRow(
            str(d["source_topic"]), int(d["partition"]), int(d["offset"]),
            None if key is None else str(key).replace("\x00", ""), payload, enc,
            str(d.get("error_type") or "Unknown").replace("\x00", ""), str(d.get("error") or "").replace("\x00", ""),
            float(d.get("failed_at") or failed_at), max(1, int(d.get("attempt") or 1)),
            str(d.get("worker") or "").replace("\x00", ""))
    except (ValueError, KeyError, TypeError) as exc:
        return dead_row(topic=topic, partition=partition, offset=offset, key=None, raw=raw,
                        exc=MalformedDeadLetter(str(exc)),
                        failed_at=failed_at, worker=worker)


def halves(items: Sequence[T]) -> tuple[Sequence[T], Sequence[T]]:
    """Split policy for isolating rejected rows: bisect (a bad row costs O(log n) statements)."""
    mid = (len(items) + 1) // 2
    return items[:mid], items[mid:]


@dataclass
class Backoff:
    """Exponential backoff with full jitter, capped: base, 2·base, 4·base … ≤ cap."""

    base: float = 0.2
    cap: float = 30.0
    factor: float = 2.0
    jitter: bool = True

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        rng = rng or random.Random()
        attempt = 0
        while True:
            ceiling = min(self.cap, self.base * self.factor ** attempt)
            yield rng.uniform(ceiling / 2, ceiling) if self.jitter else ceiling
            attempt = min(attempt + 1, 64)


# ------------------------------------------------------------- the rows as the SQL takes them

def rows_json(rows: Sequence[ObservationRow]) -> str:
    """The rows as one JSON array of objects (fields by name), for `json_to_recordset` in the SQL."""
    return orjson.dumps([r._asdict() for r in rows]).decode()


def dead_columns(rows: Sequence[DeadRow]) -> list[list]:
    return [list(c) for c in zip(*rows)] if rows else [[] for _ in DeadRow._fields]
