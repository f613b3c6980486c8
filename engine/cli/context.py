"""What every command shares: the settings and the database, loaded lazily and once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from engine.config import Settings
    from engine.history.db import Database


@dataclass
class AppContext:
    config_path: str
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)

    @property
    def project_dir(self) -> Path:
        """rules/ and templates/ live beside the config file."""
        return Path(self.config_path).resolve().parent

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from engine.config import load_settings

            self._settings = load_settings(self.config_path)
        return self._settings

    @property
    def database(self) -> Database:
        if self._database is None:
            from engine.history.db import Database

            self._database = Database.open(self.settings.database)
        return self._database

    @property
    def existing_database(self) -> Database:
        """For commands that only read: never creates a database; warns when it is empty."""
        if self._database is None:
            from engine.history.db import Database

            self._database = Database.open(self.settings.database, create=False)
            warn_if_empty(self._database)
        return self._database


def warn_if_empty(db: Database) -> None:
    """A preview of nobody looks like a strategy that sends nothing: say which it is."""
    from sqlalchemy import select
    from sqlalchemy.engine import make_url

    from engine.history.models import Customer

    with db.read() as session:
        if session.scalar(select(Customer.id).limit(1)) is None:
            url = make_url(db.url)  # a PostgreSQL URL may carry a password: never print it
            where = url.database if db.is_sqlite else url.render_as_string(hide_password=True)
            click.echo(
                f"warning: the database at {where} has no customers"
                " (import them: `rapport import customers FILE`)",
                err=True,
            )


def not_built(name: str, help_text: str) -> click.Command:
    """A documented command whose issue has not landed: it says so plainly and exits 2."""

    @click.command(name=name, help=help_text + "\n\nNot built yet: this command exits 2.")
    @click.argument("args", nargs=-1)
    def command(args: tuple[str, ...]) -> None:
        from engine.errors import NotBuiltYet

        raise NotBuiltYet(name)

    return command


def app(ctx: click.Context | None = None) -> AppContext:
    ctx = ctx or click.get_current_context()
    obj: Any = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj
