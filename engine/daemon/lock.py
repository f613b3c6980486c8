"""One daemon per database, and the heartbeat that names it.

SQLite: an exclusive flock on `<database file>.daemon.lock`, beside the database (not the
evaluation lock `<file>.lock`, which `run --once` takes for one evaluation). PostgreSQL: a
session-level advisory lock on a connection the daemon keeps for its whole life. Either
way the operating system or the server releases the lock when the process dies, even by
SIGKILL, so a crashed daemon never blocks its successor.

The heartbeat row (table daemon_heartbeat, one row) says who holds the lock: pid, host,
since when, the last tick and the rules running. A second daemon reads it to refuse with
a message naming the running one; `rapport status` reads it too.
"""

from __future__ import annotations

import fcntl
import os
import socket
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select, text
from sqlalchemy.engine import make_url

from engine.errors import RapportError
from engine.history.db import Database
from engine.history.models import DaemonHeartbeat

# Any fixed 64-bit key other than the evaluation lock's: advisory locks are per database.
DAEMON_LOCK_KEY = 0x5241_5050_4F52_5444  # "RAPPORTD"
HEARTBEAT_ID = 1


class DaemonAlreadyRunning(RapportError):
    """Another daemon holds this database's lock."""

    def __init__(self, *, pid: int | None, host: str | None, since: datetime | None) -> None:
        self.pid, self.host, self.since = pid, host, since
        if pid is None:
            who = "another daemon is running on this database"
        else:
            when = since.isoformat().replace("+00:00", "Z") if since else "an unknown time"
            who = f"another daemon is running on this database: pid {pid} on {host}, since {when}"
        super().__init__(who, hint="stop it first (SIGTERM), or use another database")


@dataclass
class DaemonLock:
    """Held from `acquire` to `release`; `release` also runs when the process dies."""

    db: Database
    _descriptor: int | None = None
    _connection: Connection | None = None

    def acquire(self) -> None:
        if self.db.is_sqlite:
            self._flock()
        else:
            self._advisory()

    def release(self) -> None:
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": DAEMON_LOCK_KEY}
                )
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None

    def _flock(self) -> None:
        database = make_url(self.db.url).database
        if database in (None, "", ":memory:"):
            return  # private to this process: nobody else can open it
        descriptor = os.open(Path(f"{database}.daemon.lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise self._refusal() from None
        self._descriptor = descriptor

    def _advisory(self) -> None:
        """A session-level lock lives as long as its connection: keep one open, outside any
        transaction (committed at once, so no idle-in-transaction timeout can end it)."""
        connection = self.db.engine.connect()
        try:
            got = connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": DAEMON_LOCK_KEY}
            )
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            raise self._refusal()
        self._connection = connection

    def _refusal(self) -> DaemonAlreadyRunning:
        row = read_heartbeat(self.db)
        if row is None or row.stopped_at is not None:
            return DaemonAlreadyRunning(pid=None, host=None, since=None)
        return DaemonAlreadyRunning(pid=row.pid, host=row.host, since=row.started_at)


@dataclass(frozen=True)
class Heartbeat:
    """The heartbeat row as read (`rapport status` shows these fields)."""

    pid: int
    host: str
    started_at: datetime
    last_tick_at: datetime | None
    last_tick_seconds: float | None
    rules_hash: str | None
    rules_loaded_at: datetime | None
    last_reload_error: str | None
    stopped_at: datetime | None


def read_heartbeat(db: Database) -> Heartbeat | None:
    with db.read() as session:
        row = session.get(DaemonHeartbeat, HEARTBEAT_ID)
        if row is None:
            return None
        return Heartbeat(**{f.name: getattr(row, f.name) for f in fields(Heartbeat)})


def this_host() -> str:
    return socket.gethostname()


def record_start(db: Database, *, now: datetime, rules_hash: str) -> None:
    """Replace whatever an earlier daemon left with this one's row."""
    with db.write() as session:
        session.execute(delete(DaemonHeartbeat))
        session.add(
            DaemonHeartbeat(
                id=HEARTBEAT_ID,
                pid=os.getpid(),
                host=this_host(),
                started_at=now,
                rules_hash=rules_hash,
                rules_loaded_at=now,
            )
        )


def record(db: Database, **values: Any) -> None:
    """Update this daemon's heartbeat fields (last_tick_at, rules_hash, stopped_at…)."""
    with db.write() as session:
        row = session.scalars(
            select(DaemonHeartbeat).where(DaemonHeartbeat.id == HEARTBEAT_ID)
        ).one_or_none()
        if row is None or row.pid != os.getpid():
            return  # not ours (never happens while we hold the lock)
        for key, value in values.items():
            setattr(row, key, value)
