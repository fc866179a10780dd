"""Dead-letter envelopes (docs/design.md §3) and their publication.

The envelope keeps the original bytes (as text when they are valid UTF-8, else base64), the
source coordinates and the error. Publishing does not stop the stream for the broker's ack:
the failed event is acknowledged once its dead letter is on the broker, and a failed send is
retried with backoff until it succeeds (streams.checkpoint.delivery).
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from streams.checkpoint.delivery import DurableSender
from streams.records import DeadLetter, encode

log = logging.getLogger(__name__)
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


# A replayed record (web/dlq.py) carries the attempt it is and the dead letter it replays; a
# replay that fails again is dead-lettered with that attempt.
ATTEMPT_HEADER = "redditstream-attempt"
REPLAY_OF_HEADER = "redditstream-replay-of"


def attempt_of(headers: Any) -> int:
    """The attempt a record is (1 unless it carries ATTEMPT_HEADER), from Kafka record headers
    (a list of (name, bytes) pairs, or a mapping)."""
    if not headers:
        return 1
    items = headers.items() if hasattr(headers, "items") else headers
    for name, value in items:
        if name == ATTEMPT_HEADER:
            try:
                return max(1, int(value.decode() if isinstance(value, (bytes, bytearray)) else value))
            except (ValueError, UnicodeDecodeError):
                return 1
    return 1


def is_environmental(exc: BaseException) -> bool:
    """A failure of the worker's own resources rather than of the event: an OSError, or one of
    RocksDB's I/O errors (rocksdict raises them as plain exceptions, "IO error: No space left on
    device: ..."). Retried, never dead-lettered: a dead letter is for what the event holds."""
    return isinstance(exc, OSError) or str(exc).startswith("IO error")


def payload_text(raw: bytes | str | None) -> tuple[str, str]:
    """(payload, encoding) of a message's original bytes: UTF-8 text when they are valid UTF-8
    without NUL (PostgreSQL text cannot hold one), else base64; "null" for a tombstone."""
    if raw is None:
        return "", "null"
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        text = raw.decode("utf-8")
        if "\x00" not in text:
            return text, "utf-8"
    except UnicodeDecodeError:
        pass
    return base64.b64encode(raw).decode("ascii"), "base64"


def decode_payload(payload: str, encoding: str, *, strict: bool = False) -> bytes | None:
    """The original bytes of a stored payload (inverse of :func:`payload_text`); `strict`: a
    payload that is not valid base64 raises ValueError (binascii.Error) instead of being decoded
    leniently."""
    if encoding == "null":
        return None
    if encoding == "base64":
        return base64.b64decode(payload, validate=strict)
    return payload.encode("utf-8")


def original_bytes(dl: DeadLetter) -> bytes | None:
    """The bytes the failed message carried."""
    return decode_payload(dl.payload, dl.payload_encoding)


def envelope(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: Any,
    value: bytes | None,
    error: BaseException,
    attempt: int = 1,
    worker: str = WORKER_ID,
    now: float | None = None,
    item: int = 0,
) -> DeadLetter:
    payload, encoding = payload_text(value)
    key_text: str | None
    if isinstance(key, (bytes, bytearray)):
        key_text, _ = payload_text(bytes(key))
    else:
        key_text = None if key is None else str(key)
    return DeadLetter(
        source_topic=topic,
        partition=partition,
        offset=offset,
        key=key_text,
        payload=payload,
        error_type=type(error).__name__,
        error=str(error)[:2000],
        failed_at=now or time.time(),
        attempt=attempt,
        worker=worker,
        payload_encoding=encoding,
        item=item,
    )


async def publish(sender: DurableSender, dl: DeadLetter, on_durable: Callable[[], Any]) -> None:
    """Hand `dl` to the producer; `on_durable` (the failed event's ack) runs once the broker has it.

    A failed send is retried until it succeeds (streams.checkpoint.delivery), so the failed event is never
    acknowledged past before its dead letter is durable."""
    await sender.send(
        encode(dl),
        key=dl.key.encode() if dl.key is not None else None,
        on_durable=on_durable,
        label=f"for {dl.source_topic}[{dl.partition}]@{dl.offset}",
    )
