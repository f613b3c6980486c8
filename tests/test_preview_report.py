"""preview reads well: summary first, local send times, one line per kind of warning."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import RunCli
from evaluation_helpers import World, at, cadence, write_project

from engine.history.db import Database
from engine.modes.preview_report import PreviewWarning, warning_lines

ONE = "- name: hi\n  template: {name}.j2\n"
TEMPLATES = {f"{n}.j2": f"@{{{{ customer.handle }}}} thanks from {n}!" for n in "abc"}
CONFIG = 'timezone: UTC\npolicy: {quiet_hours: "22:00-07:00"}\n'


def _world(db: Database, tmp_path: Path) -> World:
    rules = {
        n: cadence(n, "event: purchase", ONE.format(name=n), "starts: 2026-01-01T00:00:00Z\n")
        for n in "abc"
    }
    project = write_project(tmp_path / "p", rules, config=CONFIG, templates=TEMPLATES)
    world = World(db, project)
    for n, zone in enumerate(("UTC", "Asia/Tokyo", "America/New_York", "Australia/Sydney")):
        world.event(world.customer(f"c{n}", timezone=zone), "purchase", at(0.5), amount=5)
    return world


def test_summary_first_then_local_times_then_one_line_per_kind_of_warning(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    _world(db, tmp_path)
    code, out, err = run_cli("preview", "--at", "2026-03-03T12:00:00Z", cwd=tmp_path / "p")
    assert code == 0, err
    lines = out.splitlines()
    # Sydney is at 23:00: its three steps wait for quiet hours.
    assert lines[:5] == [
        "9 message(s) to 3 customer(s) at 2026-03-03T12:00:00Z",
        "  a / hi      3  (review 3)",
        "  b / hi      3  (review 3)",
        "  c / hi      3  (review 3)",
        "not sent: waiting 3 (quiet hours 3)",
    ]
    assert "2026-03-03 21:00 JST" in out and "2026-03-03 07:00 EST" in out
    warnings = [line for line in lines if line.startswith("warning:")]
    assert warnings == [
        "warning: identical texts: 3, e.g. @h_c0, @h_c1 and 1 more; @h_c0, @h_c1 and 1 more;"
        " +1 more (--warnings lists all) (X refuses duplicate content; vary the template)"
    ]
    assert lines[-2] == warnings[0]  # after the table, before the evaluation's counts
    code, out, _ = run_cli(
        "preview", "--at", "2026-03-03T12:00:00Z", "--warnings", cwd=tmp_path / "p"
    )
    listed = out[out.index("warning: identical texts") :].splitlines()
    assert listed[:4] == [
        "warning: identical texts: 3 (X refuses duplicate content; vary the template)",
        "  @h_c0, @h_c1, @h_c2",
        "  @h_c0, @h_c1, @h_c2",
        "  @h_c0, @h_c1, @h_c2",
    ]


def test_json_is_unchanged_rows_and_warnings_go_to_stderr(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    _world(db, tmp_path)
    code, out, err = run_cli(
        "preview", "--at", "2026-03-03T12:00:00Z", "--format", "json", cwd=tmp_path / "p"
    )
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 9
    assert set(rows[0]) >= {"customer_id", "handle", "cadence", "step", "send_at", "text"}
    assert err.startswith("warning: identical texts: 3, e.g.")


def test_a_kind_with_thousands_of_instances_stays_one_short_line() -> None:
    many = [
        PreviewWarning("texts to fix", ", ".join(f"@h{n}_{i}" for i in range(40)), "fix them")
        for n in range(5000)
    ]
    (line,) = warning_lines(many)
    assert len(line) < 300
    assert line.startswith("warning: texts to fix: 5000, e.g. @h0_0, @h0_1,")
    assert line.endswith("; +4998 more (--warnings lists all) (fix them)")
    assert len(warning_lines(many, every=True)) == 5001
