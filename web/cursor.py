"""Opaque keyset cursors: the sort key of the last row of a page, as URL-safe base64 JSON.

A cursor is `[kind, *key]`; `decode` checks the kind, the key's types and their ranges (an
integer fits PostgreSQL's bigint, a text is what its route checks it to be), and `from_micros`
refuses a time outside the calendar, so a cursor of one route cannot be used on another and a
tampered one of any shape is a 400 naming `cursor`: never a query with a wrong value in it, never
an `OverflowError`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from web.errors import BadRequest

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BIGINT = 2**63 - 1  # PostgreSQL's bigint: the range of every integer a cursor carries
REASON = "cursor is not a cursor this route returned (use next_cursor as it was given)"


def micros(ts: datetime) -> int:
    """A timestamptz as whole microseconds since the epoch (exact, unlike a float)."""
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> datetime:
    """The time of a cursor's key; a 400 naming `cursor` for one outside years 1 to 9999."""
    try:
        return EPOCH + timedelta(microseconds=us)
    except OverflowError:
        raise BadRequest(REASON) from None


def encode(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, kind: str, types: Sequence[type], text_ok: Callable[[str], bool] = lambda _: True) -> list[Any]:
    """The key of `cursor`, checked against `types` (an `int` within bigint, a `str` that `text_ok`
    accepts); a 400 on anything else."""
    bad = BadRequest(REASON)
    if len(cursor) > 512:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(value, list) or len(value) != len(types) + 1 or value[0] != kind:
        raise bad
    key = value[1:]
    for v, t in zip(key, types, strict=True):
        if type(v) is not t:  # exact: a bool is not an int here
            raise bad
        if (isinstance(v, int) and not -BIGINT <= v <= BIGINT) or (isinstance(v, str) and not text_ok(v)):
            raise bad
    return key


def time_key(
    cursor: str, kind: str, id_type: type, id_ok: Callable[[str], bool] = lambda _: True
) -> tuple[datetime, Any]:
    """The `(time, id)` key of a keyset page's cursor (web.queries' posts, web.dlq's dead letters);
    a 400 naming `cursor` for anything else."""
    us, last_id = decode(cursor, kind, (int, id_type), text_ok=id_ok)
    return from_micros(us), last_id
