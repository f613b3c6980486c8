"""diff: a known change of the rules lists exactly the messages it adds and removes.

The change: a raised threshold (`big`), a removed step (`steps/later`) and a new cadence
(`fresh`). Through the real CLI in a subprocess, both from a folder (--rules) and from a
real git repository (--git HEAD~1).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import RunCli
from evaluation_helpers import World, at, cadence, write_project

from engine.history.db import Database

BEFORE = {
    "big": cadence("big", "when: sum(purchase.amount) >= 50", "- name: hi\n  template: t.j2\n"),
    "steps": cadence(
        "steps",
        "event: purchase",
        "- name: hello\n  template: t.j2\n- name: later\n  after: 1d\n  template: t.j2\n",
    ),
}
AFTER = {
    "big": cadence("big", "when: sum(purchase.amount) >= 100", "- name: hi\n  template: t.j2\n"),
    "steps": cadence("steps", "event: purchase", "- name: hello\n  template: t.j2\n"),
    "fresh": cadence("fresh", "event: signup", "- name: welcome\n  template: t.j2\n"),
}
WINDOW = ("--start", "2026-03-02T12:00:00Z", "--end", "2026-03-05T12:00:00Z", "--every", "1d")
DAY1, DAY2 = "2026-03-03T12:00:00Z", "2026-03-04T12:00:00Z"
EXPECTED_REMOVED = {
    ("c1", "big", "hi", DAY1),
    ("c1", "steps", "later", DAY2),
    ("c2", "steps", "later", DAY2),
}
EXPECTED_ADDED = {("c3", "fresh", "welcome", DAY1)}


def _history(world: World) -> None:
    c1, c2, c3 = (world.customer(name) for name in ("c1", "c2", "c3"))
    world.event(c1, "purchase", at(0.5), amount=60)
    world.event(c2, "purchase", at(0.5), amount=120)
    world.event(c3, "signup", at(0.5))


def _messages(rows: list[dict[str, str]]) -> set[tuple[str, str, str, str]]:
    return {(r["customer_id"], r["cadence"], r["step"], r["send_at"]) for r in rows}


def test_diff_from_a_folder_lists_exactly_what_the_change_adds_and_removes(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    project = write_project(tmp_path / "now", AFTER)
    old = write_project(tmp_path / "old", BEFORE)
    world = World(db, project)
    _history(world)
    before = world.row_counts()
    code, out, err = run_cli("diff", "--rules", str(old / "rules"), *WINDOW, "--format", "json",
                             cwd=project)  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    assert _messages(document["added"]) == EXPECTED_ADDED
    assert _messages(document["removed"]) == EXPECTED_REMOVED
    assert document["customers_affected"] == 3
    assert (document["messages_before"], document["messages_after"]) == (6, 4)
    by_step = {(r["cadence"], r["step"]): (r["added"], r["removed"]) for r in document["by_step"]}
    assert by_step == {
        ("big", "hi"): (0, 1),
        ("fresh", "welcome"): (1, 0),
        ("steps", "hello"): (0, 0),
        ("steps", "later"): (0, 2),
    }
    assert world.row_counts() == before  # both replays ran on scratch ledgers


def test_diff_git_head_1_reads_the_committed_rules_and_draws_the_chart(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    project = write_project(tmp_path / "repo", BEFORE)
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "before"], check=True)
    (project / "rules" / "big.yaml").write_text(AFTER["big"])
    (project / "rules" / "steps.yaml").write_text(AFTER["steps"])
    (project / "rules" / "fresh.yaml").write_text(AFTER["fresh"])
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "after"], check=True)
    world = World(db, project)
    _history(world)
    chart = tmp_path / "diff.png"
    code, out, err = run_cli("diff", "--git", "HEAD~1", *WINDOW, "--chart", str(chart),
                             cwd=project)  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "before: HEAD~1; after: current files"
    assert lines[2] == (
        "messages: 6 before, 4 after (-2); 1 added, 3 removed, 0 with a changed text;"
        " 3 customers affected"
    )
    assert lines[3:7] == [
        "  cadence / step   before   after   added  removed",
        "  big / hi              2       1       0       -1",
        "  fresh / welcome       0       1      +1        0",
        "  steps / later         2       0       0       -2",
    ]
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_diff_names_a_bad_revision_and_asks_for_one_source(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    project = write_project(tmp_path / "repo", BEFORE)
    subprocess.run(["git", "-C", str(project), "init", "-q"], check=True)
    code, _, err = run_cli("diff", "--git", "nope", *WINDOW, cwd=project)
    assert code == 1
    assert err.strip() == (
        "error: --git nope: no such revision here (try HEAD~1, a tag or a commit id)"
    )
    code, _, err = run_cli("diff", *WINDOW, cwd=project)
    assert code == 2
    assert "give one of --git REV or --rules DIR" in err


def test_other_rules_that_do_not_validate_are_named_where_the_user_keeps_them(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    project = write_project(tmp_path / "now", AFTER)
    broken = dict(BEFORE, steps=BEFORE["steps"].replace("after: 1d", "after: 1 dayz"))
    old = write_project(tmp_path / "old", broken)
    code, _, err = run_cli("diff", "--rules", str(old / "rules"), *WINDOW, cwd=project)
    assert code == 1
    assert err.strip() == (
        f"error: {old / 'rules'}: the rules do not validate: {old / 'rules' / 'steps.yaml'}:13:12:"
        " steps[1].after: '1 dayz' is not a duration"
        " (use a whole number and a unit, e.g. 45s, 30m, 12h, 2d, 3w)"
    )
