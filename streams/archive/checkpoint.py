"""`backfill --archive --resume`'s state: per kind and subreddit, the cursor of the records that
are surely on the broker (the delivered prefix of what was produced, in produce order)."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

from streams.archive.paging import Cursor
from streams.backfill.progress import Watermark, write_json


class ArchiveCheckpoint:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path.is_file():
            self.entries = json.loads(path.read_text()).get("subreddits", {})

    @staticmethod
    def key(kind: str, subreddit: str) -> str:
        return f"{kind}:{subreddit.lower()}"

    def cursor(self, kind: str, subreddit: str) -> Cursor:
        entry = self.entries.get(self.key(kind, subreddit))
        if not entry:
            return Cursor()
        return Cursor(int(entry["second"]), set(entry["ids"]))

    def save(self, kind: str, subreddit: str, cursor: Cursor) -> None:
        if cursor.second is None:
            return
        self.entries[self.key(kind, subreddit)] = {"second": cursor.second, "ids": sorted(cursor.ids)}
        write_json(self.path, {"version": 1, "subreddits": self.entries})


class Delivered:
    """The cursor of the delivered prefix: each record handed to the producer gets a position;
    the cursor moves over the records up to the first one not yet acknowledged. A record that
    produced nothing (a bad one) is done once read."""

    def __init__(self, start: Cursor) -> None:
        self.cursor = Cursor(start.second, set(start.ids))
        self.mark = Watermark(0)
        self._seq = 0
        self._order: collections.deque[tuple[int, int, str]] = collections.deque()

    def read(self, second: int | None, rid: str, produced: bool) -> list | None:
        """Note a record read (in order); the token its delivery callback passes to
        `Watermark.delivered` when it was produced."""
        self._seq += 1
        token = self.mark.sent(self._seq) if produced else None
        if second is not None:
            self._order.append((self._seq, second, rid))
        self.mark.read_up_to = self._seq
        return token

    def value(self) -> Cursor:
        upto = self.mark.value()
        while self._order and self._order[0][0] <= upto:
            _, second, rid = self._order.popleft()
            self.cursor.take(second, rid)
        return self.cursor
