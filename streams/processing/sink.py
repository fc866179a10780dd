"""An observations message → the sink's items (docs/design.md §5): the rows to upsert, and a dead
row for what cannot be decoded.

A message is a batch (a JSON array of `Observation`s, from the enrichment's outbox) or one
`Observation` (other producers). An element that cannot be decoded becomes a dead row with its
own exact bytes and its index as `item`; the rest of the message is written.
"""

from __future__ import annotations

from typing import Any

from streams.db.rows import BadObservation, dead_row, load_json, row_from_data
from streams.db.writer import Item
from streams.deadletter import attempt_of
from streams.processing.messages import Elements


def items_for(msg: Any, *, worker: str, now: float) -> list[Item]:
    """The items of one message (`msg`: topic, partition, offset, key, value, headers)."""
    attempt = attempt_of(msg.headers)
    meta = {
        "topic": msg.topic,
        "partition": msg.partition,
        "offset": msg.offset,
        "key": msg.key,
        "raw": msg.value,
        "worker": worker,
        "attempt": attempt,
    }

    def dead(exc: BadObservation, raw: bytes | None, item: int = 0) -> Item:
        return Item(
            None,
            dead_row(
                topic=msg.topic,
                partition=msg.partition,
                offset=msg.offset,
                key=msg.key,
                raw=raw,
                exc=exc,
                failed_at=now,
                worker=worker,
                attempt=attempt,
                item=item,
            ),
            meta,
        )

    try:
        data = load_json(msg.value)
    except BadObservation as exc:
        return [dead(exc, msg.value)]
    if not isinstance(data, list):
        try:
            return [Item(row_from_data(data), None, meta)]
        except BadObservation as exc:
            return [dead(exc, msg.value)]
    items = []
    spans = Elements(msg.value, True)
    for i, element in enumerate(data):
        try:
            items.append(Item(row_from_data(element), None, {**meta, "item": i, "spans": spans}))
        except BadObservation as exc:
            items.append(dead(exc, spans[i], i))
    return items
