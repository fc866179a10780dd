"""`backfill --archive`: each subreddit's records from the archive → snapshots → the backfill topic.

Subreddits are walked one after the other (streams.archive.paging), posts mapped as the dump
lines are (streams.backfill.mapping: same fields, same bad-record reasons), produced with the
backfill's producer; the checkpoint (streams.archive.checkpoint) follows the delivered prefix,
saved at most once a second, at the end of each subreddit and when stopped. A subreddit whose
requests keep failing (streams.archive.client: retried, then GaveUp) or that the archive refuses
is reported and skipped; the others go on.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.archive.checkpoint import ArchiveCheckpoint, Delivered
from streams.archive.client import ArchiveClient, ArchiveError
from streams.archive.paging import Cursor, Walk, second_of
from streams.backfill.mapping import BadLine, comment_fields, to_fields
from streams.backfill.progress import Counts
from streams.backfill.run import produce
from streams.ingest.producer import Record

log = logging.getLogger("streams.backfill")


@dataclass
class Report:
    """Per subreddit: produced (delivered), done or skipped with the reason."""

    client: ArchiveClient
    subreddits: dict[str, dict[str, Any]] = field(default_factory=dict)
    overflow_seconds: int = 0

    @property
    def skipped(self) -> list[str]:
        return [s for s, r in self.subreddits.items() if r["status"] != "done"]

    def summary(self) -> dict[str, Any]:
        """The archive's part of the backfill's JSON summary."""
        return {
            "source": "archive",
            "requests": self.client.requests,
            "request_outcomes": dict(self.client.outcomes),
            "overflow_seconds": self.overflow_seconds,
            "subreddits": self.subreddits,
            "skipped_subreddits": self.skipped,
        }


class Progress:
    """A tqdm bar per subreddit on a terminal (archive seconds walked of the range); a log line
    every `every` s otherwise."""

    def __init__(self, subreddit: str, since: float, until: float, every: float = 5.0, tty: bool | None = None):
        self.subreddit, self.since, self.until, self.every = subreddit, since, until, every
        self.bar = None
        self._shown = 0
        self._last = time.monotonic()
        if sys.stderr.isatty() if tty is None else tty:
            from tqdm import tqdm

            self.bar = tqdm(total=max(int(until - since), 1), unit="s", desc=f"r/{subreddit}", leave=True)

    def tick(self, cursor: Cursor, records: int) -> None:
        done = (
            0 if cursor.second is None else min(max(int(cursor.second - self.since), 0), int(self.until - self.since))
        )
        if self.bar is not None:
            self.bar.update(done - self._shown)
            self._shown = done
            self.bar.set_postfix(records=records, refresh=False)
        elif time.monotonic() - self._last >= self.every:
            log.info(
                "archive r/%s: %.1f%% of the range, %d records",
                self.subreddit,
                100.0 * done / max(self.until - self.since, 1),
                records,
            )
            self._last = time.monotonic()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


async def backfill_subreddit(
    client: ArchiveClient,
    subreddit: str,
    *,
    kind: str,
    since: float,
    until: float | None,
    put: Callable[[Record], Any] | None,
    drain: Callable[[], Any],
    topic: str,
    counts: Counts,
    checkpoint: ArchiveCheckpoint | None,
    resume: bool,
    selftext_max: int,
    page_limit: int,
    body_max: int = 2000,
    tty: bool | None = None,
) -> Walk:
    """One subreddit's posts (`kind` "posts": PostSnapshots keyed by their id) or comments
    ("comments": CommentSnapshots keyed by their post's id, so a post's comments share its
    partition). `put=None` is a dry run (read and map, produce nothing, save no checkpoint)."""
    start = checkpoint.cursor(kind, subreddit) if (checkpoint and resume) else Cursor()
    if start.second is not None:
        log.info("r/%s: resuming after second %d (%d ids in it)", subreddit, start.second, len(start.ids))
    walk = Walk(client, kind, subreddit, since, until, Cursor(start.second, set(start.ids)), limit=page_limit)
    delivered = Delivered(walk.cursor)
    saving = checkpoint if (checkpoint and put) else None
    progress = Progress(subreddit, since, until or time.time(), tty=tty)
    where = Path(f"archive/{kind}/r/{subreddit}")
    saved_at, n = time.monotonic(), 0
    try:
        async for page in walk.pages():
            for record in page:
                n += 1
                counts.lines += 1
                second = second_of(record)
                try:
                    if kind == "comments":
                        fields = comment_fields(record, body_max)
                        key = fields["post_id"]
                    else:
                        fields = to_fields(record, selftext_max)
                        key = fields["id"]
                except BadLine as exc:
                    counts.bad_line(where, n, exc.reason, str(exc))
                    delivered.read(second, str(record.get("id")), produced=False)
                    continue
                counts.matched += 1
                counts.comments_matched += kind == "comments"
                token = delivered.read(second, fields["id"], produced=put is not None)
                if put is not None:
                    await produce(put, topic, key, fields, token, counts)
            progress.tick(walk.cursor, n)
            if saving and time.monotonic() - saved_at >= 1.0:
                saving.save(kind, subreddit, delivered.value())
                saved_at = time.monotonic()
        if put is not None:
            await drain()
        if saving:
            saving.save(kind, subreddit, delivered.value())
    except BaseException:
        if saving:
            saving.save(kind, subreddit, delivered.value())  # what is surely delivered
        raise
    finally:
        progress.close()
    return walk


async def backfill_archive(client: ArchiveClient, subreddits: tuple[str, ...], report: Report, **kwargs: Any) -> None:
    """Every subreddit in turn; one that fails is reported and skipped."""
    for sub in subreddits:
        before = kwargs["counts"].produced
        try:
            walk = await backfill_subreddit(client, sub, **kwargs)
        except ArchiveError as exc:
            log.error("r/%s skipped: %s", sub, exc)
            report.subreddits[sub] = {"status": "skipped", "reason": exc.reason, "detail": str(exc)[:300]}
        else:
            report.overflow_seconds += walk.overflow_seconds
            report.subreddits[sub] = {"status": "done", "requests": walk.requests}
        report.subreddits[sub]["produced"] = kwargs["counts"].produced - before
