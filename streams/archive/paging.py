"""Every record of one subreddit between two times, exactly once, by created_utc ascending.

The archive's `after` filters on created_utc, whole seconds, and whether it is inclusive is not
documented. The pager asks again from the last second it has seen and drops what it already
produced, so neither answer loses or doubles a record:

- the cursor is (second S, the ids produced whose created_utc falls in S); each request asks
  `after = S - 1`, which yields every record from S on whether `after` is inclusive (then S - 1
  comes back too and is dropped) or exclusive; once a record of second `after` comes back, the
  archive is known to be inclusive and later requests ask `after = S`;
- a record older than S, or of S with an id already produced, is dropped;
- an answer shorter than the limit asked is the end;
- a full answer with nothing new means more records share one second than a page holds: the
  same second is asked with `limit=auto` (100 to 1000 results); if even that brings nothing new,
  the rest of that second is reported (`overflow_seconds`) and skipped.

Generic over posts and comments (the search endpoints share their parameters).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from streams.archive.client import ArchiveClient

log = logging.getLogger("streams.archive")
AUTO_FLOOR = 100  # `limit=auto` answers at least this many when there are that many


def second_of(record: dict) -> int | None:
    """The whole second of a record's created_utc; None when it has none usable."""
    value = record.get("created_utc")
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return math.floor(number) if math.isfinite(number) else None


@dataclass
class Cursor:
    """Where a subreddit's walk stands: the last second produced and the ids produced in it."""

    second: int | None = None
    ids: set[str] = field(default_factory=set)

    def take(self, second: int, rid: str) -> bool:
        """Whether a record at `second` with id `rid` is new; moves the cursor when it is."""
        if self.second is not None and second < self.second:
            return False
        if self.second is None or second > self.second:
            self.second, self.ids = second, set()
        if rid in self.ids:
            return False
        self.ids.add(rid)
        return True


@dataclass
class Walk:
    """One subreddit's walk; `overflow_seconds` counts seconds whose records did not all fit."""

    client: ArchiveClient
    kind: str
    subreddit: str
    since: float
    until: float | None
    cursor: Cursor
    limit: int = 100
    inclusive: bool | None = None  # learned from the answers
    requests: int = 0
    overflow_seconds: int = 0

    async def pages(self) -> AsyncIterator[list[dict]]:
        """The new records of each answer, in created order (records without a usable time are
        passed on as they are: the mapper counts them as bad)."""
        cur = self.cursor
        if cur.second is None or cur.second < math.floor(self.since):
            cur.second, cur.ids = math.floor(self.since), set()
        before = None if self.until is None else math.ceil(self.until)
        limit: int | str = self.limit
        while True:
            assert cur.second is not None
            after = cur.second if self.inclusive else cur.second - 1
            page = await self.client.search(
                self.kind, self.subreddit, after=after, before=before, sort="asc", limit=limit
            )
            self.requests += 1
            fresh: list[dict] = []
            for record in page:
                second = second_of(record)
                if second is None:
                    fresh.append(record)
                    continue
                if second == after and self.inclusive is None:
                    self.inclusive = True
                    log.info("the archive's `after` is inclusive: asking from the last second itself")
                created = float(record["created_utc"])
                if created < self.since or (self.until is not None and created >= self.until):
                    continue
                if cur.take(second, _id_of(record)):
                    fresh.append(record)
            if fresh:
                yield fresh
            if len(page) < (self.limit if isinstance(limit, int) else AUTO_FLOOR):
                return
            if any(second_of(r) is not None for r in fresh):
                limit = self.limit
                continue
            if limit != "auto":
                limit = "auto"  # more records in one second than a page holds
                continue
            self.overflow_seconds += 1
            log.error(
                "r/%s: more %s created in second %d than the archive answers at once; the rest of it is skipped",
                self.subreddit,
                self.kind,
                cur.second,
            )
            cur.second, cur.ids, limit = cur.second + 1, set(), self.limit


def _id_of(record: dict[str, Any]) -> str:
    rid = record.get("id")
    return str(rid).removeprefix("t3_").removeprefix("t1_") if rid is not None else repr(sorted(record.items()))[:200]
