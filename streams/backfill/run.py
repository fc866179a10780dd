"""The backfill loop: dump lines → mapped snapshots → the backfill topic (submissions) or the
comments topic (comments, keyed by their post id), with a resumable checkpoint.

The producer is ingest's (streams.ingest.producer: batched, compressed, acks=all, idempotent,
a bounded buffer): when the broker is slow the buffer fills and `put` waits, so reading slows
down instead of memory growing. The checkpoint moves with the delivery watermark (every line
whose record is acknowledged), at most once a second and at the end of each file.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from streams.backfill.mapping import BadLine, Filter, comment_fields, is_comment, parse, to_fields
from streams.backfill.progress import Checkpoint, Counts, Watermark
from streams.backfill.reader import DumpReader
from streams.ingest.producer import Record
from streams.records import COMMENT_BODY_LIMIT

log = logging.getLogger("streams.backfill")
YIELD_EVERY = 2000  # lines between two turns of the event loop (the producer sends meanwhile)


class Progress:
    """A tqdm bar on a terminal (compressed bytes of the file's size, lines/s, matched); one log
    line every `every` s otherwise."""

    def __init__(self, reader: DumpReader, counts: Counts, every: float = 5.0, tty: bool | None = None) -> None:
        self.reader, self.counts, self.every = reader, counts, every
        self.bar = None
        self._last = time.monotonic()
        self._shown = 0
        if sys.stderr.isatty() if tty is None else tty:
            from tqdm import tqdm

            self.bar = tqdm(total=reader.size, unit="B", unit_scale=True, desc=reader.path.name, leave=True)

    def tick(self) -> None:
        now = time.monotonic()
        if self.bar is not None:
            read = self.reader.compressed_read
            self.bar.update(read - self._shown)
            self._shown = read
            self.bar.set_postfix(lines=self.counts.lines, matched=self.counts.matched, refresh=False)
        elif now - self._last >= self.every:
            log.info(
                "backfill %s: %.1f%% of %d bytes, %d lines, %d matched, %d produced",
                self.reader.path,
                100.0 * self.reader.compressed_read / max(self.reader.size, 1),
                self.reader.size,
                self.counts.lines,
                self.counts.matched,
                self.counts.produced,
            )
            self._last = now

    def close(self) -> None:
        if self.bar is not None:
            self.tick()
            self.bar.close()


async def backfill_file(
    path: Path,
    *,
    put: Callable[[Record], Any] | None,
    drain: Callable[[], Any],
    topic: str,
    filt: Filter,
    counts: Counts,
    checkpoint: Checkpoint | None,
    selftext_max: int,
    resume: bool,
    tty: bool | None = None,
    comment_topic: str = "",
    body_max: int = COMMENT_BODY_LIMIT,
) -> None:
    """One file (submissions, comments, or both mixed). `put=None` is a dry run (read and map,
    produce nothing)."""
    start, finished = checkpoint.lines_done(path) if (checkpoint and resume) else (0, False)
    if finished:
        log.info("%s: done in an earlier run (checkpoint); skipped", path)
        return
    if start:
        log.info("%s: resuming after line %d", path, start)
    reader = DumpReader(path)
    progress = Progress(reader, counts, tty=tty)
    mark = Watermark(start)
    saved_at = time.monotonic()
    number = start
    try:
        for number, line in reader:
            if number <= start:
                counts.skipped_resume += 1
                continue
            counts.lines += 1
            if number % YIELD_EVERY == 0:
                progress.tick()
                await asyncio.sleep(0)
                if checkpoint and put and time.monotonic() - saved_at >= 1.0:
                    checkpoint.save(path, mark.value())
                    saved_at = time.monotonic()
            fields = wanted(line, number, path, filt, counts, selftext_max, body_max)
            if fields is not None:
                counts.matched += 1
                comment = "post_id" in fields
                counts.comments_matched += comment
                if put is not None:
                    # a comment goes with its post: keyed (and so partitioned) by the post's id
                    key = fields["post_id"] if comment else fields["id"]
                    await produce(put, comment_topic if comment else topic, key, fields, mark.sent(number), counts)
            mark.read_up_to = number  # read: done once its record, if any, is delivered
        if put is not None:
            await drain()
        counts.compressed_bytes += reader.compressed_read
        if checkpoint and put:
            checkpoint.save(path, number, finished=True)
    except BaseException:
        if checkpoint and put:
            checkpoint.save(path, mark.value())  # what is surely delivered (a SIGTERM or an error)
        raise
    finally:
        progress.close()


def wanted(
    line: bytes, number: int, path: Path, filt: Filter, counts: Counts, selftext_max: int, body_max: int
) -> dict | None:
    """The snapshot fields (a post's, or a comment's: those have a `post_id`) of a line the filters
    select; None for a blank, filtered or bad line (a bad one counted by reason)."""
    if not line.strip():
        return None
    try:
        data = parse(line)
        if not filt.wants_subreddit(data):
            return None
        fields = comment_fields(data, body_max) if is_comment(data) else to_fields(data, selftext_max)
    except BadLine as exc:
        counts.bad_line(path, number, exc.reason, str(exc))
        return None
    return fields if filt.wants(fields) else None


async def produce(put: Callable[[Record], Any], topic: str, key: str, fields: dict, token: Any, counts: Counts) -> None:
    """One record's fields to `topic` under `key`; once delivered, its watermark token is marked
    and it counts as produced."""
    await put(Record(topic, key, orjson.dumps(fields), on_delivered=functools.partial(_delivered, token, counts)))


def _delivered(token: Any, counts: Counts, _record: Any) -> None:
    """A record is on the broker: its line counts as done (the watermark) and as produced."""
    Watermark.delivered(token)
    counts.produced += 1
