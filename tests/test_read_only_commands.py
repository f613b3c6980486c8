"""preview, explain and simulate read; they never create a database (real CLI, real files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunCli
from evaluation_helpers import ONE_STEP, STARTS, cadence, write_project

from engine.history.db import Database

READERS = [
    ("preview", "--at", "2026-03-02T12:00:00Z"),
    ("explain", "c1", "--at", "2026-03-02T12:00:00Z"),
    ("simulate", "--start", "2026-03-01", "--end", "2026-03-02"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    rules = {"w": cadence("w", "when: count(purchase) >= 1", ONE_STEP, STARTS)}
    return write_project(tmp_path / "project", rules)


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_a_read_only_command_does_not_create_the_database(
    project: Path, run_cli: RunCli, command: tuple[str, ...]
) -> None:
    missing = project / "data" / "rapport.db"
    code, out, err = run_cli(
        *command, cwd=project, env={"RAPPORT_DATABASE_URL": f"sqlite:///{missing}"}
    )
    assert (code, out) == (1, "")
    assert err == (
        f"error: there is no database yet at {missing}"
        " (create it by importing data: `rapport import customers FILE`, then"
        " `rapport import events FILE`; or try the sample data: `make demo`)\n"
    )
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", READERS[::2], ids=lambda c: c[0])
def test_reading_an_empty_database_warns(
    project: Path, run_cli: RunCli, db: Database, db_url: str, command: tuple[str, ...]
) -> None:
    code, _out, err = run_cli(*command, cwd=project)
    assert code == 0, err
    assert (
        f"warning: the database at {db_url.removeprefix('sqlite:///')} has no customers"
        " (import them: `rapport import customers FILE`)\n"
    ) in err
