"""Shared fixtures: a real SQLite database per test, and the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rapport.db'}"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated Database on a fresh SQLite file in tmp_path."""
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
