"""Step progress across rule edits: resume after the step that resolved, by its name.

Real SQLite, real pipeline; the rule file is rewritten between evaluations as an
operator would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluation_helpers import STARTS, World, at, cadence, write_project
from sqlalchemy import text

from engine.history.db import Database
from engine.history.migrate import upgrade

pytestmark = pytest.mark.backends

THANKS = "- name: thanks\n  template: t.j2\n"
CHECK_IN = "- name: check-in\n  after: 2d\n  template: t.j2\n"
GIVE_BACK = "- name: give-back\n  after: 2d\n  template: t.j2\n"


def make_world(db: Database, tmp_path: Path, steps: str) -> World:
    rules = {"p": cadence("p", "event: purchase", steps, STARTS)}
    return World(db, write_project(tmp_path / "project", rules))


def edit(w: World, steps: str) -> None:
    (w.project / "rules" / "p.yaml").write_text(cadence("p", "event: purchase", steps, STARTS))


def last_steps(db: Database) -> list[str | None]:
    with db.read() as session:
        return [r[0] for r in session.execute(text("SELECT last_step FROM enrolments"))]


def test_removing_the_step_just_sent_does_not_skip_the_next(db: Database, tmp_path: Path) -> None:
    w = make_world(db, tmp_path, THANKS + CHECK_IN + GIVE_BACK)
    w.event(w.customer("c1"), "purchase", at(0), amount=30)
    w.run(at(0, hours=1))  # thanks
    assert last_steps(db) == ["thanks"]
    edit(w, CHECK_IN + GIVE_BACK)
    for day in (3, 6, 9):
        w.run(at(day))
    assert [(s, t) for _, _, s, t in w.contacts()] == [
        ("thanks", at(0, hours=1)),
        ("check-in", at(3)),
        ("give-back", at(6)),
    ]
    assert last_steps(db) == ["give-back"]
    assert w.enrolments()[0][2] == "finished"


def test_a_step_inserted_before_resumes_after_the_named_step_on_time(
    db: Database, tmp_path: Path
) -> None:
    """By index, `thanks` would be found again and resolved at the edit's evaluation, and
    check-in would wait 2 days from then; by name it is due 2 days after thanks."""
    w = make_world(db, tmp_path, THANKS + CHECK_IN)
    w.event(w.customer("c1"), "purchase", at(0), amount=30)
    w.run(at(0))  # thanks
    edit(w, "- name: intro\n  template: t.j2\n" + THANKS + CHECK_IN)
    w.run(at(1))
    w.run(at(2))
    assert [(s, t) for _, _, s, t in w.contacts()] == [("thanks", at(0)), ("check-in", at(2))]


def test_an_enrolment_without_a_step_name_resumes_by_index(db: Database, tmp_path: Path) -> None:
    w = make_world(db, tmp_path, THANKS + CHECK_IN + GIVE_BACK)
    w.event(w.customer("c1"), "purchase", at(0), amount=30)
    w.run(at(0))
    with db.write() as session:  # as a row written before migration 0002
        session.execute(text("UPDATE enrolments SET last_step = NULL"))
    w.run(at(2))
    assert [s for _, _, s, _ in w.contacts()] == ["thanks", "check-in"]
    assert last_steps(db) == ["check-in"]


def test_migration_0002_adds_an_empty_last_step_to_existing_rows(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'old.db'}", upgrade=False)
    try:
        upgrade(db, "0001")
        with db.write() as session:
            session.execute(
                text(
                    "INSERT INTO customers (id, external_id, kind, attributes, created_at,"
                    " updated_at) VALUES (1, 'c1', 'customer', '{}', '2026-01-01', '2026-01-01')"
                )
            )
            session.execute(
                text(
                    "INSERT INTO enrolments (customer_id, cadence, entered_at, step_reached,"
                    " state, rules_version) VALUES (1, 'p', '2026-01-01', 1, 'active', 'v')"
                )
            )
        upgrade(db)
        assert last_steps(db) == [None]
    finally:
        db.dispose()
