"""Leader-only upkeep of the plain-PostgreSQL time series (no-op on TimescaleDB, whose policies do it)."""

from __future__ import annotations

import logging

from agents.sink import pool
from streams.app import app, settings
from streams.db.maintenance import apply_retention, is_plain, refresh_hourly

log = logging.getLogger(__name__)


@app.timer(interval=settings.maintenance_interval_seconds, on_leader=True)
async def timeseries_maintenance() -> None:
    await pool.open(wait=False)
    try:
        async with pool.connection() as conn:
            if not await is_plain(conn):
                return
            buckets = await refresh_hourly(conn, settings.rollup_lookback_hours)
            deleted = await apply_retention(conn, settings.retention_days)
        log.info("maintenance: %d hourly buckets refreshed, %d expired history rows deleted", buckets, deleted)
    except Exception as exc:  # noqa: BLE001 - the next tick tries again
        log.warning("maintenance failed: %s: %s", type(exc).__name__, str(exc)[:200])
