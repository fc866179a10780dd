"""The migrations of the installed project: alembic's configuration built in code, the script
location being the `migrations` package (package data of the wheel, pyproject.toml), so that
`redditstream migrate` (streams/migrate/command.py) runs from an installed wheel as from the
source tree. alembic.ini, at the top of the source tree, names the same folder for the
`alembic` command there. Reads no settings: the database URL is given."""

from __future__ import annotations

from pathlib import Path


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
    """The database to `revision` (`sql`: print the SQL instead, alembic's offline mode)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision, sql=sql)
