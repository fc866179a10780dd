"""`redditstream migrate` (`faust -A streams migrate`): the database (DATABASE_URL) to a
revision of the installed migrations, by default the newest (alembic's `upgrade head`); alembic's
log lines go through the project's logging (LOG_LEVEL, LOG_FORMAT)."""

from __future__ import annotations

import asyncio
import logging

from faust.cli import option

from streams.app import app, settings

log = logging.getLogger("streams.migrate")


@app.command(
    option("--revision", type=str, default="head", help="The revision to upgrade to (default: head)."),
    option("--sql", is_flag=True, default=False, help="Print the SQL instead of running it (alembic's offline mode)."),
)
async def migrate(self, revision: str, sql: bool) -> None:
    """Upgrade the database (DATABASE_URL) to a revision of the installed migrations."""
    from streams.commands import setup_logging
    from streams.migrate import script_location, upgrade

    setup_logging(settings)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)  # one line per revision applied
    await asyncio.to_thread(upgrade, settings.database_url.get_secret_value(), revision, sql)
    log.info("database at revision %s (migrations in %s)", revision, script_location())
