"""The evaluation keeps every step's resolution time, held-out steps included, so
measurement starts a control's window when its step would have been sent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from evaluation_helpers import STARTS, World, at, cadence, write_project
from sqlalchemy import select

from engine.config import Report
from engine.history.db import Database
from engine.history.models import StepResolution
from engine.reporting import Scope, measure

pytestmark = pytest.mark.backends

TWO_STEPS = (
    "- name: first\n  after: 1d\n  template: t.j2\n- name: second\n  after: 2d\n  template: t.j2\n"
)


def resolutions(db: Database) -> list[tuple]:
    s = StepResolution
    with db.read() as session:
        found = session.execute(
            select(s.step, s.arm, s.outcome, s.resolved_at).order_by(s.id)
        ).all()
    return [tuple(r) for r in found]


def test_held_out_steps_resolve_in_the_ledger_without_a_message(
    db: Database, tmp_path: Path
) -> None:
    rules = {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS + "holdout: 99.9%\n")}
    world = World(db, write_project(tmp_path / "p", rules))
    customer = world.customer("c1")
    world.event(customer, "purchase", at(0), amount=30)
    for day in (0, 1, 3, 4):
        world.run(at(day, hours=1))
    assert world.contacts() == []  # nothing for caps, nothing to deliver
    assert resolutions(db) == [
        ("first", "control", "held_out", at(1, hours=1)),
        ("second", "control", "held_out", at(3, hours=1)),
    ]
    world.event(customer, "purchase", at(2), amount=12.5)
    report = measure(db, Scope(since=None, until=None, cadence=None, as_of=at(30)), Report())
    (row,) = report.cadences
    # The control's window began at its would-be first message (day 1), so day 2 counts.
    assert (row.row.lift.control_n, row.row.lift.control_responses) == (1, 1)
    assert row.steps[0].row.lift.control_responses == 1  # step first: day 1 → day 2
    assert row.steps[1].row.lift.control_responses == 0  # step second: from day 3


def test_treatment_steps_resolve_where_their_message_was_planned(
    db: Database, tmp_path: Path
) -> None:
    rules = {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS)}
    world = World(db, write_project(tmp_path / "p", rules))
    customer = world.customer("c1")
    world.event(customer, "purchase", at(0), amount=30)
    world.run(at(1, hours=1))
    world.run(at(1, hours=2))  # nothing new: no second row for the same step
    assert resolutions(db) == [("first", "treatment", "planned", at(1, hours=1))]
    assert [c[2:] for c in world.contacts()] == [("first", at(1, hours=1))]
    report = measure(
        db, Scope(since=None, until=None, cadence=None, as_of=at(1) + timedelta(days=20)), Report()
    )
    row = report.cadences[0].row
    assert (row.lift.treatment_n, row.messages.queued, row.messages.sent) == (1, 1, 0)
    assert row.lift.note == "control of 0: lift unknown"
