"""Shared fixtures: a real database per test, and the real CLI in a subprocess.

The database is a SQLite file in tmp_path. A test marked `@pytest.mark.backends` (or a
module with `pytestmark = pytest.mark.backends`) runs twice, with ids `[sqlite]` and
`[postgres]`; the second time `db` and `db_url` are a fresh PostgreSQL database cloned from
a migrated template on the session's server (tests/postgres_server.py). A test of
PostgreSQL's own behaviour takes `@pytest.mark.backends("postgres")` and runs once. Mark
the tests that read or write the database through the library or the CLI; pure tests
need no mark.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from postgres_server import PostgresServer, session_server

from engine.history.db import Database
from engine.x.client import StaticToken, XClient
from engine.x.stand_in import StandIn

# Property tests judge answers, never speed: on a loaded 2-core CI machine a slow example
# must not fail a run. Each test still sets its own max_examples.
settings.register_profile(
    "rapport", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("rapport")

ROOT = Path(__file__).resolve().parent.parent

RunCli = Callable[..., tuple[int, str, str]]


BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("backends")
    if "backend" in metafunc.fixturenames and marker:
        # `backends("postgres")` for a test about PostgreSQL's own behaviour.
        metafunc.parametrize("backend", marker.args or BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test: "sqlite" unless the test is marked `backends`."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Started on first use only: a run with no `[postgres]` test starts no server."""
    with session_server() as server:
        yield server


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _database_url(backend, request, tmp_path / "rapport.db", migrated=True)


@pytest.fixture
def fresh_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database with no tables yet (for tests of the migrations themselves)."""
    yield from _database_url(backend, request, tmp_path / "fresh.db", migrated=False)


def _database_url(
    backend: str, request: pytest.FixtureRequest, sqlite_file: Path, *, migrated: bool
) -> Iterator[str]:
    """A SQLite file (migrated on first open), or a new PostgreSQL database dropped after
    the test: a clone of the migrated template, or an empty one."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.clone() if migrated else server.create_empty()
    try:
        yield server.database_url(name)
    finally:
        server.drop(name)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated Database at `db_url`: a fresh SQLite file, or a fresh PostgreSQL database."""
    database = Database.open(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def run_cli(tmp_path: Path, db_url: str) -> RunCli:
    """Run `python -m engine ARGS...` as a real process; returns (exit code, stdout, stderr).

    By default it runs in tmp_path against the same database file as the `db` fixture;
    pass cwd=... or env={...} (merged over os.environ) to change that.
    """

    def run(
        *args: str,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> tuple[int, str, str]:
        full_env = {
            **os.environ,
            "RAPPORT_DATABASE_URL": db_url,
            "PYTHONPATH": str(ROOT),
            "COLUMNS": "200",
            **(env or {}),
        }
        done = subprocess.run(
            [sys.executable, "-m", "engine", *args],
            cwd=cwd or tmp_path,
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return done.returncode, done.stdout, done.stderr

    return run


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """A stand-in X API on an ephemeral loopback port (engine/x/stand_in.py)."""
    with StandIn() as server:
        yield server


@pytest.fixture
def client(stand_in: StandIn) -> Iterator[XClient]:
    """An X client for the stand-in; a short timeout so slow answers time out quickly."""
    with XClient(stand_in.base_url, StaticToken("token"), timeout=1.0) as x:
        yield x
