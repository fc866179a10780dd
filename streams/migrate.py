"""`redditstream migrate` (`faust -A streams migrate`): the database (DATABASE_URL) to a
revision of the migrations, by default the newest (alembic's `upgrade head`).

The migrations are the `migrations` package, installed with the project (package data of the
wheel, pyproject.toml), so the command runs from an installed wheel as from the source tree.
alembic.ini, at the top of the source tree, says the same (`script_location`) for the `alembic`
command there; here alembic's configuration is built in code and its log lines go through the
project's logging (LOG_LEVEL, LOG_FORMAT).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from faust.cli import option

from streams.app import app, settings

log = logging.getLogger("streams.migrate")


def script_location() -> Path:
    """The installed `migrations` package's folder (env.py, script.py.mako, versions/)."""
    import migrations

    return Path(migrations.__file__).resolve().parent


def alembic_config(database_url: str):
    """Alembic's configuration, without an ini file: the script location and the database URL
    (migrations/env.py reads `database_url` before the settings)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head", sql: bool = False) -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision, sql=sql)


@app.command(
    option("--revision", type=str, default="head", help="The revision to upgrade to (default: head)."),
    option("--sql", is_flag=True, default=False, help="Print the SQL instead of running it (alembic's offline mode)."),
)
async def migrate(self, revision: str, sql: bool) -> None:
    """Upgrade the database (DATABASE_URL) to a revision of the installed migrations."""
    from streams.commands import setup_logging

    setup_logging(settings)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)  # one line per revision applied
    await asyncio.to_thread(upgrade, settings.database_url, revision, sql)
    log.info("database at revision %s (migrations in %s)", revision, script_location())
