"""A source message → its elements (docs/design.md §3).

Producers send either one JSON record per message or, as ingest and the backfill do, a JSON
array of records that all belong to the message's partition. `elements` turns either, once
parsed (`streams.records.parse_json`), into its list of records and whether it was an array.
`Elements` gives an element's own exact bytes, as they sit in the message, for its dead letter
(a message that is not JSON at all is one bad element, index 0, with the message's bytes): the
array is scanned (`split_array`) only when an element fails (rare), not on the hot path.
"""

from __future__ import annotations

import re
from typing import Any

from streams.records import InvalidMessage

# a JSON string, or one of the structural characters that matter for splitting an array
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)
_WS = b" \t\r\n"


def elements(data: Any) -> tuple[list[Any], bool]:
    """(the records of a parsed message, whether it was an array)."""
    if isinstance(data, list):
        return data, True
    return [data], False


def split_array(raw: bytes) -> list[bytes]:
    """The exact bytes of each top-level element of a JSON array (`raw` already known to parse
    as one), surrounding whitespace stripped."""
    start = raw.index(b"[") + 1
    depth = 0
    spans: list[bytes] = []
    for m in _TOKEN.finditer(raw, start):
        tok = m.group()
        if tok[0] == 0x22:  # a string: skipped whole
            continue
        if tok in (b"[", b"{"):
            depth += 1
        elif tok in (b"]", b"}"):
            if depth == 0:  # the array's own closing bracket
                last = raw[start : m.start()].strip(_WS)
                if last or spans:
                    spans.append(last)
                return spans
            depth -= 1
        elif depth == 0:  # a comma between two elements
            spans.append(raw[start : m.start()].strip(_WS))
            start = m.end()
    raise InvalidMessage("unterminated JSON array")


class Elements:
    """The exact bytes of a message's elements, split on first use."""

    def __init__(self, raw: bytes | str | None, is_array: bool) -> None:
        self.raw = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
        self.is_array = is_array
        self._spans: list[bytes] | None = None

    def __getitem__(self, index: int) -> bytes | None:
        if not self.is_array or self.raw is None:
            return self.raw
        if self._spans is None:
            self._spans = split_array(self.raw)
        return self._spans[index]
