"""The connection pool of the worker's database I/O (psycopg 3, async)."""
from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool


def make_pool(url: str, *, min_size: int = 1, max_size: int = 5, prepare_threshold: int | None = 5,
              name: str = "redditstream", **kwargs: Any) -> AsyncConnectionPool:
    """A pool that is *not opened yet* (call `await pool.open(wait=False)`).

    No per-checkout health check (it would cost a round trip per flush): a connection broken by
    a server restart fails its statement, is discarded by the pool when returned, and the caller
    retries with a fresh one. `prepare_threshold=None` disables server-side prepared statements
    (needed by the PGlite wire server of the TimescaleDB tests).
    """
    return AsyncConnectionPool(
        url, min_size=min_size, max_size=max_size, open=False, name=name,
        timeout=10.0, reconnect_timeout=24 * 3600.0,
        kwargs={"autocommit": True, "connect_timeout": 5, "prepare_threshold": prepare_threshold, **kwargs},
    )
