"""The connection pools of the worker's database I/O (psycopg 3, async), by name (the sink's,
the web views'): `pools()` lists them for the metrics (web.metrics)."""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from streams.settings import Settings

_POOLS: dict[str, AsyncConnectionPool] = {}


def make_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 5,
    prepare_threshold: int | None = 5,
    name: str = "redditstream",
    **kwargs: Any,
) -> AsyncConnectionPool:
    """A pool that is *not opened yet* (call `await pool.open(wait=False)`).

    No per-checkout health check (it would cost a round trip per flush): a connection broken by
    a server restart fails its statement, is discarded by the pool when returned, and the caller
    retries with a fresh one. `prepare_threshold=None` disables server-side prepared statements
    (needed by the PGlite wire server of the TimescaleDB tests).
    """
    pool = _POOLS[name] = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        name=name,
        timeout=10.0,
        reconnect_timeout=24 * 3600.0,
        kwargs={"autocommit": True, "connect_timeout": 5, "prepare_threshold": prepare_threshold, **kwargs},
    )
    return pool


def sink_pool(settings: Settings) -> AsyncConnectionPool:
    """The worker's pool for its writing agents (the sink, the DLQ persister), made once."""
    return _POOLS.get("sink") or make_pool(
        settings.database_url.get_secret_value(),
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        name="sink",
    )


def pools() -> dict[str, AsyncConnectionPool]:
    """The pools made in this process, by name (the last one of each name)."""
    return dict(_POOLS)
