"""The real CLI in a subprocess: run --once twice plans nothing new; preview writes nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from conftest import RunCli
from evaluation_helpers import World, at, cadence, write_project

from engine.history.db import Database

STEPS = """
- name: hello
  template: t.j2
- name: later
  after: 2d
  template: t.j2
"""
RULES = {
    "thanks": cadence("thanks", "event: purchase", STEPS, "starts: 2026-01-01T00:00:00Z\n"),
    "loyal": cadence("loyal", "when: count(purchase) >= 2", "- name: hi\n  template: t.j2\n"),
}
CONFIG = 'timezone: UTC\npolicy: {quiet_hours: "22:00-07:00", opt_out_words: [stop]}\n'


def _world(db: Database, tmp_path: Path) -> World:
    world = World(db, write_project(tmp_path, RULES, config=CONFIG))
    for n in range(6):
        customer = world.customer(f"c{n}", timezone="Asia/Tokyo" if n == 5 else "UTC")
        world.event(customer, "purchase", at(0), amount=10 * n)
        if n % 2:
            world.event(customer, "purchase", at(0.2), amount=5)
    return world


def test_run_once_twice_plans_nothing_the_second_time(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    world = _world(db, tmp_path)
    code, out, err = run_cli("run", "--once", "--at", "2026-03-02T13:00:00Z", "--format", "json")
    assert code == 0, err
    first = json.loads(out)
    assert first["planned"] > 0 and first["enrolled"] > 0
    counts = world.row_counts()
    code, out, err = run_cli("run", "--once", "--at", "2026-03-02T13:00:00Z")
    assert code == 0, err
    assert out.startswith("evaluated 6 customers at 2026-03-02T13:00:00Z: enrolled 0, planned 0")
    again = world.row_counts()
    assert again["contacts"] == counts["contacts"]
    assert again["enrolments"] == counts["enrolments"]
    assert again["runs"] == counts["runs"] + 1
    # Later runs never duplicate an occurrence either.
    for when in ("2026-03-03T13:00:00Z", "2026-03-04T13:00:00Z", "2026-03-04T13:00:00Z"):
        assert run_cli("run", "--once", "--at", when)[0] == 0
    keys = [(who, c, s) for who, c, s, _ in world.contacts()]
    assert len(keys) == len(set(keys))


def test_preview_changes_no_row_count(db: Database, tmp_path: Path, run_cli: RunCli) -> None:
    world = _world(db, tmp_path)
    assert run_cli("run", "--once", "--at", "2026-03-02T13:00:00Z")[0] == 0
    before = world.row_counts()
    code, out, err = run_cli("preview", "--at", "2026-03-05T13:00:00Z", "--all", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert world.row_counts() == before
    planned = [r for r in rows if r["decision"] == "planned"]
    assert planned and all(r["text"].startswith(f"@{r['handle']} ") for r in planned)
    for row in rows:
        assert {
            "customer_id",
            "handle",
            "cadence",
            "step",
            "variant",
            "send_at",
            "text",
            "weighted_length",
            "channel",
            "decision",
            "reason",
        } <= set(row)
    # The Tokyo customer is in quiet hours at 22:00 local: --all says why.
    assert any(r["customer_id"] == "c5" and r["reason"] == "quiet_hours" for r in rows)
    code, out, err = run_cli("preview", "--at", "2026-03-05T13:00:00Z", "--format", "csv")
    assert code == 0, err
    assert len(list(csv.DictReader(io.StringIO(out)))) == len(planned)
    code, out, err = run_cli("preview", "--at", "2026-03-05T13:00:00Z", "--customer", "c1")
    assert code == 0, err
    assert "@h_c1" in out and "@h_c3" not in out
    assert world.row_counts() == before


def test_preview_of_unknown_customer_or_cadence_is_an_error(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    _world(db, tmp_path)
    code, _, err = run_cli("preview", "--customer", "nobody")
    assert code == 1 and "no customer with id or handle 'nobody'" in err
    code, _, err = run_cli("preview", "--cadence", "nope")
    assert code == 1 and "no cadence named 'nope'" in err
    code, _, err = run_cli("run")
    assert code == 2 and "run --once" in err
