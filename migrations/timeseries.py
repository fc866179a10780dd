"""What the time-series revisions (0003, 0006) share: the settings they read at migration time
and which path of 0003 the database is on."""

from __future__ import annotations

from sqlalchemy import text


def setting(name: str) -> int:
    """A setting's value at migration time (RETENTION_DAYS, ROLLUP_LOOKBACK_HOURS)."""
    from streams.settings import Settings, environment

    return getattr(Settings.from_mapping(environment()), name)


def uses_timescale(bind) -> bool:
    """The TimescaleDB path of revision 0003 is installed (not the plain one)."""
    return bool(
        bind.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') "
                "AND to_regclass('timeseries_maintenance') IS NULL"
            )
        ).scalar()
    )
