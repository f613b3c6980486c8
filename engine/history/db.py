"""The one owner of SQL engines and sessions.

SQLite is tuned for a daemon and a CLI sharing one file: WAL, synchronous=NORMAL, a busy
timeout, and writing transactions opened with BEGIN IMMEDIATE — under the default
deferred BEGIN a read-then-write transaction fails at once with "database is locked"
when another process holds the write lock, instead of waiting for it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import RapportError

BUSY_TIMEOUT_MS = 30_000
LOCK_POLL_SECONDS = 0.05
HOW_TO_CREATE = (
    "create it by importing data: `rapport import customers FILE`, then"
    " `rapport import events FILE`; or try the sample data: `make demo`"
)


@dataclass(frozen=True)
class NamedLock:
    """A database-wide lock (`Database.exclusive_lock`): its file name on SQLite, its
    advisory-lock key on PostgreSQL (any fixed 64-bit number: advisory locks are per
    database, so one key per purpose suffices), and what a second holder is told."""

    name: str
    key: int
    holder: str  # "another evaluation", "another daemon"
    hint: str

    def busy(self) -> RapportError:
        return RapportError(f"{self.holder} is running on this database", hint=self.hint)


EVALUATION = NamedLock(
    "evaluation",
    0x5241_5050_4F52_5400,  # "RAPPORT\0"
    "another evaluation",
    "wait for it to finish (or stop the daemon) and try again",
)
# One daemon per database: it holds this for as long as it runs.
DAEMON = NamedLock(
    "daemon",
    0x5241_5050_4441_4500,  # "RAPPDAE\0"
    "another daemon",
    "stop the other daemon first: one daemon runs per database",
)


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


SUPPORTED_DATABASES = (
    "Rapport stores its data in SQLite or PostgreSQL:"
    " use sqlite:///path/to/rapport.db or postgresql+psycopg://user@host/db"
)


def _driver_hint(backend: str) -> str:
    """The PostgreSQL extra only helps a PostgreSQL URL; anything else is not supported."""
    if backend == "postgresql":
        return "use postgresql+psycopg://… and pip install 'rapport[postgres]'"
    return SUPPORTED_DATABASES


@dataclass
class Database:
    url: str
    engine: Engine
    _sessions: sessionmaker[Session]
    _writer: sessionmaker[Session]
    # The session of the open snapshot, if any (per thread and task, like a transaction).
    _snapshot: ContextVar[Session | None] = field(
        default_factory=lambda: ContextVar("rapport_snapshot", default=None),
        repr=False,
        compare=False,
    )

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True, create: bool = True) -> Database:
        """Connect, and apply pending migrations on first use.

        With `create=False` (the read-only commands) a SQLite file that does not exist is
        an error that says how to make one, instead of an empty database (and its folders)
        appearing where the user did not expect one.
        """
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise RapportError(
                f"database URL {url!r} is not valid",
                hint="use sqlite:///path/to/rapport.db or postgresql+psycopg://user@host/db",
            ) from None
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            if not create and not Path(parsed.database).is_file():
                raise RapportError(
                    f"there is no database yet at {parsed.database}", hint=HOW_TO_CREATE
                )
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(url, future=True)
        except NoSuchModuleError:
            raise RapportError(
                f"the database URL names {parsed.drivername!r}, which Rapport cannot use",
                hint=SUPPORTED_DATABASES,
            ) from None
        except ModuleNotFoundError as exc:
            raise RapportError(
                f"the database driver {exc.name!r} for {parsed.drivername} is not installed",
                hint=_driver_hint(parsed.get_backend_name()),
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
        """A read-only unit of work (rolled back at the end); inside `snapshot()`, the
        snapshot's own session, so the read sees what every other read of it sees."""
        pinned = self._snapshot.get()
        if pinned is not None:
            yield pinned
            return
        with self._sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @property
    def in_snapshot(self) -> bool:
        return self._snapshot.get() is not None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every `read()` inside sees one consistent state of the database: the one at entry.

        One read transaction is kept open for the whole block. SQLite in WAL mode gives
        that transaction snapshot isolation from its first read on (so one read happens at
        once); PostgreSQL gets REPEATABLE READ, READ ONLY. Writers are not blocked. Without
        it, a preview started while `run --once` commits batch after batch would see some
        customers before the run and others after it. Nested snapshots share the outer one.
        """
        if self.in_snapshot:
            yield
            return
        session = self._sessions()
        if self.is_sqlite:
            # BEGIN (deferred) comes from the "begin" listener; the read takes the snapshot.
            session.execute(text("SELECT count(*) FROM sqlite_master"))
        else:
            options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            session.connection(execution_options=options)
            session.execute(text("SELECT 1"))
        token = self._snapshot.set(session)
        try:
            yield
        finally:
            self._snapshot.reset(token)
            session.rollback()
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A writing transaction: BEGIN IMMEDIATE on SQLite, committed on success.

        Never do network I/O inside it: it holds the database's write lock (other writers wait).
        """
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def evaluation_lock(self, timeout: float = 30) -> Iterator[None]:
        """Held for the whole of a writing evaluation: one at a time per database.

        An evaluation reads, decides, then writes; two overlapping ones would each decide
        on a history without the other's writes (a `when` enrolment begins at each run's
        `now`, so even the ledger's idempotency key cannot catch the duplicate). Previews
        write nothing and need no lock. Waits up to `timeout` seconds, then gives up.
        """
        with self.exclusive_lock(EVALUATION, timeout=timeout):
            yield

    @contextmanager
    def exclusive_lock(self, lock: NamedLock, *, timeout: float = 30) -> Iterator[None]:
        """One holder at a time per database, across processes and machines.

        SQLite: an flock on a file beside the database (`rapport.db.lock` for evaluations,
        `rapport.db.<name>.lock` for the others). PostgreSQL: a session-level advisory lock
        on a connection of its own. Either way it goes when its holder dies: the kernel
        closes the file, the server ends the session. A daemon that holds one for hours
        should know that on PostgreSQL a lost connection loses the lock too (check it with
        a query on each tick). Waits up to `timeout` seconds (0: try once), then raises the
        lock's busy error. An in-memory SQLite database is private to its process: no lock.
        """
        if not self.is_sqlite:
            with self._advisory_lock(lock, timeout):
                yield
            return
        database = make_url(self.url).database
        if database in (None, "", ":memory:"):  # private to this process: nobody to race
            yield
            return
        suffix = ".lock" if lock is EVALUATION else f".{lock.name}.lock"
        with _file_lock(Path(f"{database}{suffix}"), lock, timeout):
            yield

    @contextmanager
    def _advisory_lock(self, lock: NamedLock, timeout: float) -> Iterator[None]:
        """PostgreSQL: a session-level advisory lock on a connection of its own.

        Autocommit, so the connection does not sit "idle in transaction" (holding back
        vacuum, and killed by idle_in_transaction_session_timeout) while the lock is held.
        """
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            deadline = time.monotonic() + timeout
            try_lock = text("SELECT pg_try_advisory_lock(:key)")
            while not connection.scalar(try_lock, {"key": lock.key}):
                if time.monotonic() >= deadline:
                    raise lock.busy()
                time.sleep(LOCK_POLL_SECONDS)
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock.key})

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _file_lock(path: Path, lock: NamedLock, timeout: float) -> Iterator[None]:
    """An exclusive flock beside the SQLite file; the kernel releases it if we die."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise lock.busy() from None
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
