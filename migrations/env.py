"""Alembic environment: the database is DATABASE_URL (streams.settings), driven by psycopg 3."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

from streams.settings import load_or_exit

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def sqlalchemy_url() -> str:
    url = config.attributes.get("database_url") or load_or_exit().database_url.get_secret_value()
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg://{rest}"


def run_migrations_offline() -> None:
    context.configure(url=sqlalchemy_url(), literal_binds=True, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(sqlalchemy_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
