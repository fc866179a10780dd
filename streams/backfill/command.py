"""`faust -A streams backfill PATH... [--subreddits a,b] [--since DATE] [--until DATE] [--dry-run] [--resume]`

Reads dump files (`.zst`, `.gz`, `.ndjson` / `.jsonl`) and produces `PostSnapshot`s with
`source: "backfill"` to TOPIC_BACKFILL, keyed by post id, and the comments of comment dumps
(`RC_YYYY-MM.zst`, `<name>_comments.zst`; a line is a comment by its content) as
`CommentSnapshot`s to TOPIC_COMMENTS, keyed by their post id; the worker's agents write them to
PostgreSQL through the sink. Needs no worker to run. Exit code 0 when every file was read
(bad lines are counted, never fatal), 1 when stopped by a signal, 2 on bad arguments.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from faust.cli import argument, option

from streams.app import app, settings

log = logging.getLogger("streams.backfill")


def parse_when(value: str | None, name: str) -> float | None:
    """`2024-01-31`, `2024-01-31T12:00:00` (UTC unless an offset is given) or epoch seconds."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(
            f"redditstream backfill: {name} {value!r} is not a date (YYYY-MM-DD[THH:MM:SS]) or epoch seconds"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


@app.command(
    argument("paths", nargs=-1, required=True, type=str),
    option("--subreddits", type=str, default="", help="Only these subreddits (comma-separated, any case)."),
    option("--since", type=str, default=None, help="Only posts and comments created at or after (UTC date or epoch)."),
    option("--until", type=str, default=None, help="Only posts and comments created before (UTC date or epoch)."),
    option("--dry-run", is_flag=True, default=False, help="Read and map, produce nothing."),
    option("--resume", is_flag=True, default=False, help="Continue from the checkpoint of an earlier run."),
)
async def backfill(
    self, paths: tuple[str, ...], subreddits: str, since: str | None, until: str | None, dry_run: bool, resume: bool
) -> None:
    """Backfill posts and comments from Reddit dump files (Arctic Shift / Pushshift) into the pipeline."""
    from streams.admin import bootstrap_servers, ensure_topics
    from streams.backfill.mapping import Filter
    from streams.backfill.progress import Checkpoint, Counts
    from streams.backfill.run import backfill_file
    from streams.commands import setup_logging, stop_event
    from streams.ingest.producer import BufferedProducer
    from streams.kafka_check import preflight
    from streams.kafka_client import client_options
    from streams.settings import _subreddits

    setup_logging(settings)
    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise SystemExit(f"redditstream backfill: no such file: {', '.join(missing)}")
    try:
        subs = _subreddits(subreddits) if subreddits.strip() else ()
    except ValueError as exc:
        raise SystemExit(f"redditstream backfill: --subreddits: {exc}") from None
    filt = Filter(subs, parse_when(since, "--since"), parse_when(until, "--until"))
    checkpoint = Checkpoint(Path(settings.backfill_checkpoint))
    counts = Counts()
    producer = None
    if not dry_run:
        await preflight(settings, wait=settings.ingest_retry_max_seconds, required=True)
        bootstrap = bootstrap_servers(settings.kafka_broker_url)
        producer = BufferedProducer.from_settings(
            settings,
            bootstrap,
            declare=lambda: ensure_topics(
                bootstrap,
                [settings.topic_backfill, settings.topic_comments],
                settings.topic_partitions,
                settings.topic_replication,
                security=client_options(settings),
            ),
            client="backfill",
        )
        await producer.start()
    stop = stop_event()
    started = time.monotonic()

    async def run() -> None:
        for path in files:
            await backfill_file(
                path,
                put=producer.put if producer else None,
                drain=lambda: producer.drain(float("inf")) if producer else None,
                topic=settings.topic_backfill,
                filt=filt,
                counts=counts,
                checkpoint=checkpoint,
                selftext_max=settings.selftext_max_chars,
                resume=resume,
                comment_topic=settings.topic_comments,
                body_max=settings.comment_body_max_chars,
            )

    job = asyncio.create_task(run(), name="backfill")
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({job, stopper}, return_when=asyncio.FIRST_COMPLETED)
    interrupted = not job.done()
    if interrupted:
        job.cancel()
    try:
        await job
    except asyncio.CancelledError:
        pass
    finally:
        stopper.cancel()
        if producer is not None:
            await producer.drain(settings.ingest_shutdown_timeout)
            await producer.stop()
    summary = {
        **counts.summary(time.monotonic() - started),
        "dry_run": dry_run,
        "interrupted": interrupted,
        "topic": settings.topic_backfill,
        "comments_topic": settings.topic_comments,
    }
    log.info(
        "backfill %s: %s",
        "interrupted" if interrupted else "done",
        json.dumps(summary),
        extra={"fields": {"event": "backfill summary", **summary}},
    )
    print(json.dumps(summary), file=sys.stdout, flush=True)
    if interrupted:
        raise SystemExit(1)
