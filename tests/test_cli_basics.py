"""The CLI's promises (docs/reference/cli.md): every command teaches with --help, exit codes mean
0 ok / 1 bad input / 2 usage, and errors are one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, RunCli

from engine.cli import cli

COMMANDS = [
    "validate", "import", "preview", "explain", "simulate", "run", "daemon", "review",
    "approve", "reject", "report", "status", "diff", "schema", "db", "demo-data",
    "mark-sent", "worker",
]  # fmt: skip


@pytest.mark.parametrize("name", COMMANDS)
def test_every_design_command_exists_with_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    help_text = result.output.split("\n\n", 2)[1].strip()
    assert len(help_text) > 10, f"{name} --help says too little: {help_text!r}"


def test_a_command_not_built_yet_says_so_and_exits_2(run_cli: RunCli) -> None:
    code, out, err = run_cli("worker")
    assert code == 2
    assert err.strip() == "error: 'rapport worker' is not built yet (see the open issues)"
    assert "Traceback" not in out + err


def test_unknown_command_is_a_usage_error(run_cli: RunCli) -> None:
    code, _, err = run_cli("sned")
    assert code == 2
    assert "No such command 'sned'" in err


def test_bad_config_is_one_positioned_line_per_problem(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("policy:\n  capz: []\n  min_gap: 3 dayz\n")
    code, _, err = run_cli("--config", "bad.yaml", "db", "upgrade")
    assert code == 1
    assert err.splitlines() == [
        "error: bad.yaml:2:3: 'capz' is not a key of policy; did you mean 'caps'?",
        "bad.yaml:3:12: policy.min_gap: '3 dayz' is not a duration "
        "(use a whole number and a unit, e.g. 45s, 30m, 12h, 2d, 3w)",
    ]


def test_a_missing_named_config_file_is_named(run_cli: RunCli) -> None:
    code, _, err = run_cli("--config", "nowhere.yaml", "db", "upgrade")
    assert code == 1
    assert err.strip() == "error: nowhere.yaml: no such config file (check --config)"


def test_missing_database_driver_names_the_extra(run_cli: RunCli) -> None:
    code, _, err = run_cli(
        "db", "upgrade", env={"RAPPORT_DATABASE_URL": "mysql+nosuchdriver://x@127.0.0.1/x"}
    )
    assert code == 1
    assert "Traceback" not in err
    assert err.startswith("error:")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://x@127.0.0.1/x",
            "error: the database driver 'MySQLdb' for mysql is not installed (Rapport stores"
            " its data in SQLite or PostgreSQL: use sqlite:///path/to/rapport.db or"
            " postgresql+psycopg://user@host/db)",
        ),
        (
            "mysql+nosuchdriver://x@127.0.0.1/x",
            "error: the database URL names 'mysql+nosuchdriver', which Rapport cannot use"
            " (Rapport stores its data in SQLite or PostgreSQL: use sqlite:///path/to/rapport.db"
            " or postgresql+psycopg://user@host/db)",
        ),
        (
            "postgresql+pg8000://x@127.0.0.1/x",
            "error: the database driver 'pg8000' for postgresql+pg8000 is not installed"
            " (use postgresql+psycopg://… and pip install 'rapport[postgres]')",
        ),
    ],
)
def test_only_a_postgresql_url_gets_the_postgresql_hint(
    run_cli: RunCli, url: str, message: str
) -> None:
    code, _, err = run_cli("db", "upgrade", env={"RAPPORT_DATABASE_URL": url})
    assert (code, err.strip()) == (1, message)


@pytest.mark.backends
def test_processes_opening_a_new_database_at_once_all_succeed(fresh_db_url: str) -> None:
    """They race to create the tables; the first to lock the database (BEGIN IMMEDIATE on
    SQLite, an advisory lock on PostgreSQL) migrates it, the others wait and find it done."""
    url = fresh_db_url
    opener = "import sys; from engine.history.db import Database; Database.open(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", opener, url], env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["preview", "--at", "9999-12-31T23:00:00-05:00"],
            "Invalid value for '--at': '9999-12-31T23:00:00-05:00' is not a time"
            " (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)",
        ),
        (
            ["run", "--once", "--at", "0001-01-01T00:00:00+01:00"],
            "Invalid value for '--at': '0001-01-01T00:00:00+01:00' is not a time"
            " (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)",
        ),
        (
            ["simulate", "--start", "1900-01-01", "--end", "2026-01-01"],
            "Invalid value for '--start': '1900-01-01' is not a time Rapport accepts"
            " (years 1970 to 9000 only)",
        ),
        (
            ["simulate", "--start", "2026-01-01", "--end", "9500-01-01"],
            "Invalid value for '--end': '9500-01-01' is not a time Rapport accepts"
            " (years 1970 to 9000 only)",
        ),
    ],
)
def test_times_out_of_range_are_usage_errors(
    run_cli: RunCli, args: list[str], message: str
) -> None:
    code, _, err = run_cli(*args)
    assert code == 2
    assert err.splitlines()[-1] == f"Error: {message}"


def test_import_customers_help_says_a_partial_file_keeps_other_columns() -> None:
    result = CliRunner().invoke(cli, ["import", "customers", "--help"], terminal_width=200)
    assert "only the file's columns are updated" in " ".join(result.output.split())


def test_a_config_file_that_is_not_utf8_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_bytes(b"timezone: Europe/Paris # caf\xe9\n")
    code, _, err = run_cli("--config", "config.yaml", "db", "upgrade")
    assert (code, err) == (1, "error: config.yaml: not UTF-8 text (save it as UTF-8)\n")


def test_out_paths_inside_a_file_are_errors(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("x")
    code, _, err = run_cli(
        "simulate", "--start", "2026-01-01", "--end", "2026-01-02", "--out", "a_file/x.json"
    )
    assert (code, err) == (
        1,
        "error: --out a_file/x.json: a_file is not a folder (create it or choose another path)\n",
    )
    code, _, err = run_cli("demo-data", "--customers", "1", "--out", "a_file/sub")
    assert (code, err) == (
        1,
        "error: --out a_file/sub: cannot create the folder (Not a directory)"
        " (choose a folder path that is not a file)\n",
    )


def test_simulate_end_before_start_is_a_usage_error(run_cli: RunCli) -> None:
    code, _, err = run_cli("simulate", "--start", "2026-02-01", "--end", "2026-01-01")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: Invalid value for --end: 2026-01-01T00:00:00Z is before --start"
        " 2026-02-01T00:00:00Z"
    )
    code, _, err = run_cli(
        "simulate", "--start", "2026-01-01", "--end", "2026-01-02", "--every", "0s"
    )
    assert code == 2
    assert (
        err.splitlines()[-1]
        == "Error: Invalid value for --every: '0s' is out of range (use 1s to 3650d)"
    )
