"""The web views' database access: one pool per worker, rows as dicts, failures as 503.

Every statement goes through `fetch`/`fetch_one`, which count it by name
(`redditstream_web_queries_total{query}`): how the stats cache's single flight is checked, and
what an operator reads to see which API route loads the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import psycopg
from prometheus_client import Counter
from psycopg.rows import dict_row
from psycopg_pool import PoolTimeout

from streams.db.pool import make_pool
from web.errors import Unavailable

log = logging.getLogger(__name__)
QUERIES = Counter("redditstream_web_queries_total", "SQL statements run by the web views, by query", ["query"])
QUERY_ERRORS = Counter("redditstream_web_query_errors_total", "SQL statements of the web views that failed", ["query"])

# Raised when the server, the network or the pool fails, not the statement's logic.
DOWN = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, OSError, asyncio.TimeoutError)


class WebDatabase:
    """A lazily opened pool (the web server starts before any request needs it)."""

    def __init__(
        self, url: str, *, max_size: int, min_size: int = 1, timeout: float = 5.0, prepare_threshold: int | None = 5
    ) -> None:
        self.pool = make_pool(
            url, min_size=min_size, max_size=max_size, name="web", prepare_threshold=prepare_threshold
        )
        self.timeout = timeout
        self._opened = False

    async def _open(self) -> None:
        if not self._opened:
            self._opened = True
            if self.pool.closed:  # not opened by its owner (tests open it themselves)
                await self.pool.open(wait=False)

    async def fetch(self, name: str, sql: str, params: Mapping[str, Any] | tuple = ()) -> list[dict[str, Any]]:
        await self._open()
        QUERIES.labels(name).inc()
        try:
            async with self.pool.connection(timeout=self.timeout) as conn:
                async with conn.cursor(row_factory=dict_row) as cur:
                    await cur.execute(sql, params)
                    return await cur.fetchall()
        except DOWN as exc:
            QUERY_ERRORS.labels(name).inc()
            log.warning("web query %s: database unavailable: %s", name, exc)
            raise Unavailable("database", exc) from None

    async def fetch_one(self, name: str, sql: str, params: Mapping[str, Any] | tuple = ()) -> dict[str, Any] | None:
        rows = await self.fetch(name, sql, params)
        return rows[0] if rows else None

    @contextlib.asynccontextmanager
    async def transaction(self, name: str) -> AsyncIterator[psycopg.AsyncCursor[dict[str, Any]]]:
        """A cursor (rows as dicts) in one transaction: committed when the block ends, rolled back
        when it raises; a database that fails is a 503 like `fetch`'s."""
        await self._open()
        QUERIES.labels(name).inc()
        try:
            async with self.pool.connection(timeout=self.timeout) as conn:
                async with conn.transaction():
                    async with conn.cursor(row_factory=dict_row) as cur:
                        yield cur
        except DOWN as exc:
            QUERY_ERRORS.labels(name).inc()
            log.warning("web transaction %s: database unavailable: %s", name, exc)
            raise Unavailable("database", exc) from None

    async def close(self) -> None:
        if self._opened:
            await self.pool.close()
