"""The one owner of SQL engines and sessions.

SQLite is tuned for a daemon and a CLI sharing one file: WAL, synchronous=NORMAL, a busy
timeout, and writing transactions opened with BEGIN IMMEDIATE — under the default
deferred BEGIN a read-then-write transaction fails at once with "database is locked"
when another process holds the write lock, instead of waiting for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import RapportError

BUSY_TIMEOUT_MS = 30_000


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite quirk).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class Database:
    url: str
    engine: Engine
    _sessions: sessionmaker[Session]
    _writer: sessionmaker[Session]

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Database:
        """Connect, and apply pending migrations on first use (DESIGN §4)."""
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise RapportError(
                f"database URL {url!r} is not valid",
                hint="use sqlite:///path/to/rapport.db or postgresql+psycopg://user@host/db",
            ) from None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, future=True)
        except ModuleNotFoundError as exc:
            raise RapportError(
                f"the database driver {exc.name!r} for {parsed.drivername} is not installed",
                hint="for PostgreSQL: pip install 'rapport[postgres]'",
            ) from None
        writer_engine: Engine = engine
        if engine.dialect.name == "sqlite":
            _tune_sqlite(engine)
            writer_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        db = cls(
            url,
            engine,
            sessionmaker(engine, expire_on_commit=False),
            sessionmaker(writer_engine, expire_on_commit=False),
        )
        if upgrade:
            from engine.history.migrate import upgrade as run_upgrade

            run_upgrade(db)
        return db

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        with self._sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A writing transaction: BEGIN IMMEDIATE on SQLite, committed on success.

        Never do network I/O inside it (DESIGN §4): it holds the database's write lock.
        """
        with self._writer() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
