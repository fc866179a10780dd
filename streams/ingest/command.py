"""`faust -A streams ingest`: poll Reddit (new posts, new comments, refreshes) and produce; runs
without a worker, consumes nothing.

Stops on SIGTERM/SIGINT in order: the pollers stop, every pending record is delivered
(up to INGEST_SHUTDOWN_TIMEOUT), the delivered ids are saved, then the process exits.
"""

from __future__ import annotations

import asyncio
import logging

from streams.app import app, settings

log = logging.getLogger("streams.ingest")


@app.command()
async def ingest(self) -> None:
    """Poll the subreddits' new posts and comments and refresh tracked posts into Kafka (docs/design.md §1)."""
    import redis.asyncio as aioredis
    from prometheus_client import start_http_server

    from streams.admin import bootstrap_servers, ensure_topics
    from streams.commands import setup_logging, stop_event
    from streams.ingest.budget import Budget
    from streams.ingest.known import KnownStore
    from streams.ingest.producer import BufferedProducer
    from streams.ingest.reddit import RedditClient, open_reddit
    from streams.ingest.scheduler import Ingest
    from streams.kafka_check import preflight
    from streams.kafka_client import client_options

    setup_logging(settings)
    stop = stop_event()
    if settings.ingest_metrics_port:
        start_http_server(settings.ingest_metrics_port, addr=settings.web_host)
    # a configuration that cannot connect ends here with one line; an absent broker does not
    # (records are buffered until it comes)
    await preflight(settings, wait=0, required=False)
    bootstrap = bootstrap_servers(settings.kafka_broker_url)
    producer = BufferedProducer.from_settings(
        settings,
        bootstrap,
        declare=lambda: ensure_topics(
            bootstrap,
            [settings.topic_posts, settings.topic_refresh, settings.topic_comments],
            settings.topic_partitions,
            settings.topic_replication,
            security=client_options(settings),
        ),
    )
    budget = Budget(settings.ingest_ratelimit_reserve)
    client = RedditClient(open_reddit(settings, budget))
    store = KnownStore(
        aioredis.Redis.from_url(settings.redis_url.get_secret_value()),
        f"{settings.app_id}:ingest",
        settings.ingest_seen_ttl_hours * 3600,
    )
    comment_store = KnownStore(store.redis, f"{settings.app_id}:ingest:comments", settings.ingest_seen_ttl_hours * 3600)
    job = Ingest(settings, client, store, producer, budget, stop, comment_store)
    try:
        job.tracked = await store.load_tracked()
    except Exception:
        log.exception("could not load tracked posts from Redis")
    await producer.start()
    tasks = [asyncio.create_task(job.poll_forever(sub), name=f"poll-{sub}") for sub in settings.subreddits]
    if settings.ingest_comments_seconds > 0:
        tasks += [
            asyncio.create_task(job.poll_comments_forever(sub), name=f"comments-{sub}") for sub in settings.subreddits
        ]
    tasks.append(asyncio.create_task(job.refresh_forever(), name="refresh"))
    saver = asyncio.create_task(job.persist_forever(), name="persist")
    log.info(
        "ingest started: %d subreddits, api %s, topics %s / %s, %d tracked posts",
        len(settings.subreddits),
        settings.reddit_api_url or "https://oauth.reddit.com",
        settings.topic_posts,
        settings.topic_refresh,
        len(job.tracked),
    )
    try:
        await stop.wait()
    finally:
        log.info(
            "ingest stopping: %d records pending",
            producer.pending,
            extra={"fields": {"event": "ingest stopping", "pending": producer.pending}},
        )
        # pollers blocked in put() (full buffer) or mid-request are cancelled: what they
        # already handed to the producer is delivered below.
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        drained = await producer.drain(settings.ingest_shutdown_timeout)
        await saver
        try:
            await job.persist()
        except Exception:
            log.exception("could not save the delivered ids to Redis: they may be emitted again")
        await producer.stop()
        await client.close()
        await store.redis.aclose()
        log.info(
            "ingest stopped: enqueued=%d delivered=%d pending=%d%s",
            producer.enqueued,
            producer.delivered,
            producer.pending,
            "" if drained else " (shutdown timeout: pending records NOT delivered)",
            extra={
                "fields": {
                    "event": "ingest stopped",
                    "enqueued": producer.enqueued,
                    "delivered": producer.delivered,
                    "pending": producer.pending,
                }
            },
        )
