"""Alembic, driven from code: `rapport db upgrade` and the automatic upgrade on first use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

if TYPE_CHECKING:
    from engine.history.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# PostgreSQL advisory-lock key held while migrating (any fixed 64-bit number).
MIGRATION_KEY = 0x5241_5050_4D49_4700  # "RAPPMIG\0"


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def is_current(db: Database, config: Config) -> bool:
    """True when the database is at the newest revision (a plain read, no write lock)."""
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply pending migrations, holding SQLite's write lock from the first statement.

    Several processes opening a new database at once all read "no version table" and then
    race to create it; in a deferred transaction the losers fail at once with "database is
    locked". BEGIN IMMEDIATE makes them wait for the winner, after which alembic sees the
    tables and has nothing left to do. PostgreSQL has no database-wide write lock (the
    losers would fail on "relation already exists"), so there the same wait is a
    transaction-level advisory lock taken before alembic reads the version table.
    """
    config = alembic_config(db)
    if revision == "head" and is_current(db, config):
        return
    engine = db.engine.execution_options(sqlite_begin="IMMEDIATE") if db.is_sqlite else db.engine
    with engine.begin() as connection:
        if not db.is_sqlite:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
