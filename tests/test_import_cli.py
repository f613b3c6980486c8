"""`rapport import ...` and `rapport db upgrade` as a user runs them: real processes."""

from __future__ import annotations

import csv
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

from conftest import ROOT

RunCli = Callable[..., tuple[int, str, str]]

BAD_ROWS = {
    101: ("handle", "not-a-handle!"),
    502: ("timezone", "Europe/Atlantis"),
    903: ("consent_at", "2026-02-30"),
}


def thousand_customers(path: Path) -> None:
    """1,000 customers; rows 101, 502 and 903 (file lines 102, 503, 904) are bad."""
    rng = random.Random(3)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["id", "handle", "name", "timezone", "kind", "consent_at", "tier"])
        for n in range(1, 1001):
            row = {
                "id": f"{n:05d}",
                "handle": f"@User_{n}",
                "name": rng.choice(["Ann", "李伟", "Zoë 🌸"]),
                "timezone": rng.choice(["Asia/Kathmandu", "Europe/Paris", ""]),
                "kind": rng.choice(["customer", "prospect", ""]),
                "consent_at": "2025-06-01T12:00:00+02:00",
                "tier": rng.choice(["gold", ""]),
            }
            if n in BAD_ROWS:
                field, value = BAD_ROWS[n]
                row[field] = value
            writer.writerow(row.values())


def count(db_file: Path, table: str) -> int:
    with sqlite3.connect(db_file) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_thousand_customers_with_three_bad_rows(tmp_path: Path, run_cli: RunCli) -> None:
    thousand_customers(tmp_path / "customers.csv")
    code, out, err = run_cli("import", "customers", "customers.csv")
    assert code == 1
    assert out == "customers.csv: read 1000, inserted 997, updated 0, unchanged 0, rejected 3\n"
    lines = err.splitlines()
    assert [line.split(":")[:2] for line in lines] == [
        ["customers.csv", "102"],
        ["customers.csv", "503"],
        ["customers.csv", "904"],
    ]
    for line, field in zip(lines, ("handle", "timezone", "consent_at"), strict=True):
        assert f"field '{field}'" in line
    assert count(tmp_path / "rapport.db", "customers") == 997

    code, out, _ = run_cli("import", "customers", "customers.csv")
    assert code == 1
    assert out == "customers.csv: read 1000, inserted 0, updated 0, unchanged 997, rejected 3\n"
    assert count(tmp_path / "rapport.db", "customers") == 997


def test_clean_import_exits_0_and_events_are_idempotent(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "c.jsonl").write_text('{"id": "1", "handle": "@Ann"}\n', encoding="utf-8")
    (tmp_path / "e.csv").write_text(
        "handle,type,occurred_at,amount\nann,purchase,2026-01-01,20\n", encoding="utf-8"
    )
    assert run_cli("import", "customers", "c.jsonl")[0] == 0
    code, out, err = run_cli("import", "events", "e.csv")
    assert (code, err) == (0, "")
    assert out == "e.csv: read 1, inserted 1, updated 0, unchanged 0, rejected 0\n"
    code, out, _ = run_cli("import", "events", "e.csv")
    assert out == "e.csv: read 1, inserted 0, updated 0, unchanged 1, rejected 0\n"


def test_file_level_errors_exit_1(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "e.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / "e.csv").write_text("customer_id,type\n1,purchase\n", encoding="utf-8")
    assert run_cli("import", "events", "e.txt")[::2] == (
        1,
        "error: e.txt: cannot tell the format from the extension (use a .csv or .jsonl file)\n",
    )
    assert run_cli("import", "events", "e.csv")[::2] == (
        1,
        "error: e.csv:1: missing column 'occurred_at'\n",
    )


def test_db_upgrade_prints_the_revision(tmp_path: Path, run_cli: RunCli) -> None:
    from alembic.script import ScriptDirectory

    from engine.history.migrate import MIGRATIONS

    # The newest migration, whichever it is: branches add theirs and the head moves.
    [head] = ScriptDirectory(str(MIGRATIONS)).get_heads()
    code, out, err = run_cli("db", "upgrade")
    assert (code, err) == (0, "")
    assert out == f"sqlite:///{tmp_path / 'rapport.db'}: at revision {head}\n"


def test_zones_naming_a_folder_or_too_long_are_row_problems(
    tmp_path: Path, run_cli: RunCli
) -> None:
    long_zone = "A" * 300
    (tmp_path / "c.csv").write_text(
        f"id,handle,timezone\n1,ann,UTC\n2,bob,America\n3,cy,{long_zone}\n4,dee,Asia/Tokyo\n",
        encoding="utf-8",
    )
    code, out, err = run_cli("import", "customers", "c.csv")
    assert code == 1
    assert out == "c.csv: read 4, inserted 2, updated 0, unchanged 0, rejected 2\n"
    hint = "is not an IANA time zone (e.g. America/Los_Angeles, Europe/Paris)"
    assert err.splitlines() == [
        f"c.csv:3: field 'timezone': 'America' {hint}",
        f"c.csv:4: field 'timezone': {long_zone!r} {hint}",
    ]


def test_out_of_range_times_reject_their_rows_and_exit_1(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "c.csv").write_text(
        "id,handle,consent_at\n1,ann,9999-12-31T23:00:00-05:00\n2,bob,2025-01-01\n",
        encoding="utf-8",
    )
    (tmp_path / "e.csv").write_text(
        "customer_id,type,occurred_at\n2,visit,0001-01-01T00:00:00+01:00\n2,visit,2026-03-01\n",
        encoding="utf-8",
    )
    code, out, err = run_cli("import", "customers", "c.csv")
    assert (code, out) == (1, "c.csv: read 2, inserted 1, updated 0, unchanged 0, rejected 1\n")
    assert err == (
        "c.csv:2: field 'consent_at': '9999-12-31T23:00:00-05:00' is not a time"
        " (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)\n"
    )
    code, out, err = run_cli("import", "events", "e.csv")
    assert (code, out) == (1, "e.csv: read 2, inserted 1, updated 0, unchanged 0, rejected 1\n")
    assert err.startswith("e.csv:2: field 'occurred_at': '0001-01-01T00:00:00+01:00' is not")


def test_an_unclosed_quote_exits_1_and_keeps_the_rows_before(
    tmp_path: Path, run_cli: RunCli
) -> None:
    (tmp_path / "c.csv").write_text('id,handle,city\n1,ann,Paris\n2,bob,"Lyon\n3,cy,Nice\n')
    code, out, err = run_cli("import", "customers", "c.csv")
    assert (code, out) == (1, "c.csv: read 2, inserted 1, updated 0, unchanged 0, rejected 1\n")
    assert err == (
        "c.csv:3: has a quote that is never closed (every later line was read into one cell)\n"
    )


def test_validate_samples_only_customers_with_a_handle(tmp_path: Path, run_cli: RunCli) -> None:
    """Messages start with @handle; a customer without one must not fail every template."""
    (tmp_path / "c.csv").write_text("id,handle,name\n1,,No Handle\n2,ann,Ann\n")
    assert run_cli("import", "customers", "c.csv")[0] == 0
    code, out, err = run_cli("validate", cwd=ROOT)
    assert (code, err) == (0, "")
    assert out.startswith("OK:")


def test_a_command_run_elsewhere_uses_the_database_beside_its_config(
    tmp_path: Path, run_cli: RunCli
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "config.yaml").write_text("database: sqlite:///rapport.db\n")
    (elsewhere / "c.csv").write_text("id,handle\n1,ann\n")
    code, _, err = run_cli(
        "--config", str(project / "config.yaml"), "import", "customers", "c.csv",
        cwd=elsewhere, env={"RAPPORT_DATABASE_URL": ""},
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert count(project / "rapport.db", "customers") == 1
    assert not (elsewhere / "rapport.db").exists()
