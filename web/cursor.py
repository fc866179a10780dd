"""Opaque keyset cursors: the sort key of the last row of a page, as URL-safe base64 JSON.

A cursor is `[kind, *key]`; `decode` checks the kind and the key's types, so a cursor of one
route cannot be used on another and a tampered one is a 400 naming `cursor`, never a query
with a wrong type in it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from web.errors import BadRequest

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(ts: datetime) -> int:
    """A timestamptz as whole microseconds since the epoch (exact, unlike a float)."""
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> datetime:
    from datetime import timedelta

    return EPOCH + timedelta(microseconds=us)


def encode(kind: str, *key: Any) -> str:
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, kind: str, types: Sequence[type]) -> list[Any]:
    """The key of `cursor`, checked against `types`; a 400 on anything else."""
    bad = BadRequest("cursor is not a cursor this route returned (use next_cursor as it was given)")
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
    return key
