"""The `backfill --archive` job as the backfill command runs it: its arguments checked, its
client, checkpoint and report built from the settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from streams.archive.backfill import Report, backfill_archive
from streams.archive.checkpoint import ArchiveCheckpoint
from streams.archive.client import ArchiveClient
from streams.backfill.mapping import Filter
from streams.backfill.progress import Counts
from streams.ingest.producer import BufferedProducer
from streams.settings import Settings


def check_arguments(paths: tuple[str, ...], archive: bool, subreddits: str, since: str | None, comments: bool) -> None:
    """One line and exit code 2 for arguments `--archive` cannot run with."""
    if comments and not archive:
        raise SystemExit(
            "redditstream backfill: --comments goes with --archive (a dump's comments are found by content)"
        )
    if paths:
        raise SystemExit(f"redditstream backfill: --archive reads no files (got {paths[0]!r})")
    if not subreddits.strip():
        raise SystemExit("redditstream backfill: --archive needs --subreddits A,B (the archive is read per subreddit)")
    if since is None:
        raise SystemExit("redditstream backfill: --archive needs --since WHEN (a UTC date or epoch seconds)")


def archive_job(
    settings: Settings,
    producer: BufferedProducer | None,
    subreddits: tuple[str, ...],
    filt: Filter,
    counts: Counts,
    resume: bool,
    comments: bool = False,
) -> tuple[Callable[[], Coroutine[Any, Any, None]], Report, Callable[[], Awaitable[None]]]:
    """(the job, its report, what closes its client)."""
    assert filt.since is not None
    client = ArchiveClient(settings.archive)
    report = Report(client)
    checkpoint = ArchiveCheckpoint(Path(settings.archive.checkpoint))

    async def run() -> None:
        await backfill_archive(
            client,
            subreddits,
            report,
            kind="comments" if comments else "posts",
            since=filt.since,
            until=filt.until,
            put=producer.put if producer else None,
            drain=lambda: producer.drain(float("inf")) if producer else None,
            topic=settings.topic_comments if comments else settings.topic_backfill,
            counts=counts,
            checkpoint=checkpoint,
            resume=resume,
            selftext_max=settings.selftext_max_chars,
            page_limit=settings.archive.page_limit,
            body_max=settings.comment_body_max_chars,
        )

    return run, report, client.close
