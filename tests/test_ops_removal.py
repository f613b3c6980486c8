"""A cadence whose file leaves rules/: `run --once` cancels what it queued and ends its
enrolments; restoring the file brings nothing back; broken rules cancel nothing."""

from __future__ import annotations

from pathlib import Path

from conftest import RunCli
from evaluation_helpers import STARTS, World, at, cadence, write_project
from sqlalchemy import select

from engine.history.db import Database
from engine.history.models import Contact, Enrolment

STEPS = """
- name: hello
  template: t.j2
- name: later
  after: 2d
  template: t.j2
"""
RULES = {
    "thanks": cadence("thanks", "event: purchase", STEPS, STARTS),
    "welcome": cadence("welcome", "event: signup", STEPS, STARTS),
}


def _ledger(db: Database) -> dict[str, list[tuple[str, str, str | None]]]:
    with db.read() as session:
        contacts = session.execute(
            select(Contact.cadence, Contact.step, Contact.state, Contact.reason).order_by(
                Contact.id
            )
        ).all()
        enrolments = session.execute(
            select(Enrolment.cadence, Enrolment.state, Enrolment.ended_at).order_by(Enrolment.id)
        ).all()
    return {
        "contacts": [(c, f"{s}:{state}", reason) for c, s, state, reason in contacts],
        "enrolments": [(c, state, str(ended) if ended else None) for c, state, ended in enrolments],
    }


def test_removing_a_cadence_file_cancels_its_queue_and_restoring_it_resurrects_nothing(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    project = write_project(tmp_path, RULES)
    world = World(db, project)
    for n in range(3):
        customer = world.customer(f"c{n}")
        world.event(customer, "purchase", at(0))
        world.event(customer, "signup", at(0))
    assert run_cli("run", "--once", "--at", at(0, hours=1).isoformat())[0] == 0
    before = _ledger(db)
    assert [c for c in before["contacts"] if c[0] == "thanks"] == [
        ("thanks", "hello:pending_review", None)
    ] * 3

    # A half-written file makes the rules invalid: the run fails, nothing is cancelled.
    thanks = project / "rules" / "thanks.yaml"
    saved = thanks.read_text()
    thanks.write_text(saved[: len(saved) // 2])
    code, _out, err = run_cli("run", "--once", "--at", at(0, hours=2).isoformat())
    assert code == 1 and "thanks.yaml" in err
    assert _ledger(db) == before

    thanks.unlink()
    code, _out, err = run_cli("run", "--once", "--at", at(0, hours=3).isoformat())
    assert code == 0, err
    after = _ledger(db)
    assert [c for c in after["contacts"] if c[0] == "thanks"] == [
        ("thanks", "hello:cancelled", "cadence_removed")
    ] * 3
    assert [c for c in after["contacts"] if c[0] == "welcome"] == [
        c for c in before["contacts"] if c[0] == "welcome"
    ]
    ended = [e for e in after["enrolments"] if e[0] == "thanks"]
    assert [(c, state) for c, state, _ in ended] == [("thanks", "exited")] * 3
    assert all(when is not None for *_, when in ended)
    assert all(e[1] == "active" for e in after["enrolments"] if e[0] == "welcome")

    thanks.write_text(saved)  # restored: nothing comes back, nothing is planned anew
    for days in (0.2, 3, 6):
        code, _out, err = run_cli("run", "--once", "--at", at(days).isoformat())
        assert code == 0, err
    restored = _ledger(db)
    assert [c for c in restored["contacts"] if c[0] == "thanks"] == [
        ("thanks", "hello:cancelled", "cadence_removed")
    ] * 3
    assert [e for e in restored["enrolments"] if e[0] == "thanks"] == ended
    # The other cadence went on as usual meanwhile.
    assert ("welcome", "later:pending_review", None) in restored["contacts"]
