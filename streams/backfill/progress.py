"""What a backfill run keeps track of: the delivery watermark, the per-file checkpoint, the counts."""

from __future__ import annotations

import collections
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("streams.backfill")
BAD_LINES_LOGGED = 20


class Watermark:
    """The highest line number such that the record of every line up to it is on the broker.

    Records are sent in line order but acknowledged in any order (retries); lines that produce
    no record (filtered, bad) count as done once read."""

    def __init__(self, start: int = 0) -> None:
        self._pending: collections.deque[list] = collections.deque()
        self.read_up_to = start

    def sent(self, line: int) -> list:
        token = [line, False]
        self._pending.append(token)
        return token

    @staticmethod
    def delivered(token: list) -> None:
        token[1] = True

    def value(self) -> int:
        pending = self._pending
        while pending and pending[0][1]:
            pending.popleft()
        return pending[0][0] - 1 if pending else self.read_up_to


class Checkpoint:
    """`--resume`'s state: per file, the lines whose records are all on the broker. A file whose
    size or modification time changed since is read again from its start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, dict[str, Any]] = {}
        if path.is_file():
            self.files = json.loads(path.read_text()).get("files", {})

    @staticmethod
    def _identity(dump: Path) -> dict[str, int]:
        st = dump.stat()
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def lines_done(self, dump: Path) -> tuple[int, bool]:
        entry = self.files.get(str(dump.resolve()))
        if not entry:
            return 0, False
        if {k: entry.get(k) for k in ("size", "mtime_ns")} != self._identity(dump):
            log.warning("%s changed since its checkpoint: reading it again from the start", dump)
            return 0, False
        return int(entry["lines_done"]), bool(entry.get("finished"))

    def save(self, dump: Path, lines_done: int, finished: bool = False) -> None:
        self.files[str(dump.resolve())] = {"lines_done": lines_done, "finished": finished, **self._identity(dump)}
        write_json(self.path, {"version": 1, "files": self.files})


def write_json(path: Path, value: Any) -> None:
    """Replace a checkpoint file atomically: a kill -9 leaves the old one or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    os.replace(tmp, path)


@dataclass
class Counts:
    lines: int = 0
    skipped_resume: int = 0
    matched: int = 0
    comments_matched: int = 0
    produced: int = 0
    bad: collections.Counter = field(default_factory=collections.Counter)
    compressed_bytes: int = 0

    def bad_line(self, path: Path, number: int, reason: str, detail: str) -> None:
        self.bad[reason] += 1
        total = sum(self.bad.values())
        if total <= BAD_LINES_LOGGED:
            log.warning("%s:%d: bad line (%s) skipped", path, number, detail)
        elif total == BAD_LINES_LOGGED + 1:
            log.warning("more bad lines: not logged one by one any more (counted in the summary)")

    def summary(self, seconds: float) -> dict[str, Any]:
        return {
            "lines_read": self.lines,
            "skipped_by_resume": self.skipped_resume,
            "posts_matched": self.matched - self.comments_matched,
            "comments_matched": self.comments_matched,
            "produced": self.produced,
            "bad_lines": dict(self.bad),
            "bad_lines_total": sum(self.bad.values()),
            "seconds": round(seconds, 2),
            "lines_per_s": round(self.lines / seconds) if seconds else None,
            "mb_per_s": round(self.compressed_bytes / 1e6 / seconds, 2) if seconds else None,
        }
