"""Liveness (`/health/`) and readiness (`/ready/`, with the state of each dependency)."""

from __future__ import annotations

import asyncio
import time

import psycopg
import redis.asyncio as aioredis

from streams import kafka_check
from streams.app import app, settings
from streams.runtime import recovery
from streams.runtime.consumer import ordered_consumer

STARTED = time.time()


@app.page("/health/")
async def health(web, request):
    return web.json({"status": "ok", "app": app.conf.id, "uptime_s": round(time.time() - STARTED, 1)})


async def _check_database() -> str:
    try:
        conn = await psycopg.AsyncConnection.connect(
            settings.database_url.get_secret_value(), connect_timeout=2, autocommit=True
        )
        async with conn:
            await conn.execute("select 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"error: {type(exc).__name__}: {str(exc)[:200]}"


async def _check_redis() -> str:
    client = aioredis.Redis.from_url(settings.redis_url.get_secret_value(), socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}: {str(exc)[:200]}"
    finally:
        await client.aclose()


CONNECTION_TTL_S = 15.0  # how long one connection check answers /ready/
_connection: kafka_check.Outcome | None = None


async def _check_connection() -> kafka_check.Outcome:
    """Whether a new connection to the brokers authenticates now (cached CONNECTION_TTL_S): a
    password rotated away or a certificate that expired shows here, with its one line."""
    global _connection
    if _connection is None or time.time() - _connection.checked_at > CONNECTION_TTL_S:
        _connection = await kafka_check.check(settings, timeout=2.0)
    return _connection


def kafka_state() -> dict:
    """The worker's place in the consumer group.

    Ready means: the group has settled (no rebalance in progress), the tables' recovery has
    completed at least once (faust sets it only after this member's first assignment), and the
    source topics are in the metadata. A member that owns no source partition is ready too: with
    standby replicas faust's assignor fills each member up to ceil(partitions / members) before
    the next, so a fifth worker over 8 partitions is only a standby ("role": "standby"), and a
    member beyond partitions x (1 + standbys) is "idle"; both answer the web views.
    "standby_lag" says how far the standby copies are behind their changelogs.
    """
    sources = {settings.topic_posts, settings.topic_refresh}
    assigned = {tp for tp in (app.consumer.assignment() if app.consumer else set()) if tp.topic in sources}
    standbys = app.assignor.assigned_standbys() if app.consumer else set()
    recovered = recovery.recovered(app)
    try:
        missing = sorted(ordered_consumer(app).missing_topics())
    except AttributeError:  # consumer not started yet
        missing = []
    return {
        "assigned_partitions": len(assigned),
        "standby_partitions": len(standbys),
        # changelog records the standby copies lack: 0 once a kill -9 of their active owner
        # fails over without a restore (informative; it does not make the member unready)
        "standby_lag": recovery.standby_lag(app),
        "role": "active" if assigned else "standby" if standbys else "idle",
        "rebalancing": bool(app.rebalancing),
        "tables_recovered": recovered,
        "topics_missing_from_metadata": missing,
        "ok": not app.rebalancing and recovered and not missing,
    }


@app.page("/ready/")
async def ready(web, request):
    database, cache, connection = await asyncio.gather(_check_database(), _check_redis(), _check_connection())
    kafka = kafka_state()
    # "connection": the security in use (never the password) and whether it authenticates:
    # {"state": "ok" | "failed" | "unreachable", "security", "broker", "detail", "checked_at"}
    kafka["connection"] = connection.as_dict()
    kafka["ok"] = kafka["ok"] and connection.ok
    # Redis is a mirror: without it the worker still does its job (degraded), so it is reported
    # but does not make the worker unready.
    is_ready = kafka["ok"] and database == "ok"
    body = {"ready": is_ready, "kafka": kafka, "database": database, "redis": cache}
    return web.json(body, status=200 if is_ready else 503)
