"""`rapport import contacts`: past contacts count for caps, reentry and measurement."""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluation_helpers import STARTS, World, at, cadence, write_project
from sqlalchemy import select

from engine.history.db import Database
from engine.history.importing import import_customers
from engine.history.importing.contacts import import_contacts
from engine.history.models import Contact, Enrolment, StepResolution

pytestmark = pytest.mark.backends

CUSTOMERS = "id,handle\nc1,h_c1\nc2,h_c2\nc3,h_c3\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(db: Database) -> tuple[list[tuple], list[tuple], list[tuple]]:
    with db.read() as session:
        enrolments = session.execute(
            select(
                Enrolment.cadence, Enrolment.state, Enrolment.step_reached, Enrolment.last_step
            ).order_by(Enrolment.id)
        ).all()
        contacts = session.execute(
            select(Contact.cadence, Contact.step, Contact.state, Contact.variant).order_by(
                Contact.id
            )
        ).all()
        resolutions = session.execute(
            select(StepResolution.step, StepResolution.arm, StepResolution.outcome).order_by(
                StepResolution.id
            )
        ).all()
    return (
        [tuple(r) for r in enrolments],
        [tuple(r) for r in contacts],
        [tuple(r) for r in resolutions],
    )


def test_treatment_and_control_rows_become_ledger_rows_once(db: Database, tmp_path: Path) -> None:
    import_customers(db, write(tmp_path, "c.csv", CUSTOMERS))
    path = write(
        tmp_path,
        "contacts.csv",
        "customer_id,cadence,step,sent_at,enrolled_at,group,state,variant\n"
        "c1,spring,check-in,2026-01-20,2026-01-01,,,\n"
        "c1,spring,offer,2026-01-05,2026-01-01,treatment,sent,b\n"
        "c2,spring,offer,2026-01-05,,holdout,,\n"
        "c3,spring,offer,2026-01-05,,global_holdout,,\n",
    )
    first = import_contacts(db, path)
    assert (first.read, first.inserted, first.unchanged, first.rejected) == (4, 4, 0, 0)
    enrolments, contacts, resolutions = rows(db)
    assert enrolments == [
        ("spring", "finished", 2, "check-in"),
        ("spring", "held_out", 1, "offer"),
        ("spring", "held_out", 1, "offer"),
    ]
    # Controls are no message: never in the ledger of contacts (caps, delivery).
    assert contacts == [("spring", "offer", "sent", "b"), ("spring", "check-in", "sent", "")]
    assert sorted(resolutions) == [
        ("check-in", "treatment", "imported"),
        ("offer", "control", "global_holdout"),
        ("offer", "control", "held_out"),
        ("offer", "treatment", "imported"),
    ]
    again = import_contacts(db, path)
    assert (again.inserted, again.unchanged, again.rejected) == (0, 4, 0)
    assert rows(db) == (enrolments, contacts, resolutions)


def test_bad_rows_are_reported_with_row_and_field(db: Database, tmp_path: Path) -> None:
    import_customers(db, write(tmp_path, "c.csv", CUSTOMERS))
    path = write(
        tmp_path,
        "contacts.csv",
        "customer_id,cadence,step,sent_at,enrolled_at,group,state\n"
        "nobody,spring,offer,2026-01-05,,,\n"
        "c1,,offer,2026-01-05,,,\n"
        "c1,spring,offer,yesterday,,,\n"
        "c1,spring,offer,2026-01-05,2026-01-06,,\n"
        "c1,spring,offer,2026-01-05,,control,\n"
        "c1,spring,offer,2026-01-05,,holdout,sent\n"
        "c1,spring,offer,2026-01-05,,,pending_review\n"
        "c2,spring,offer,2026-01-05,,,\n",
    )
    summary = import_contacts(db, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:2: field 'customer_id': no customer has the id 'nobody' (import customers first)",
        f"{path}:3: field 'cadence': is empty (name the cadence, e.g. win-back)",
        f"{path}:4: field 'sent_at': 'yesterday' is not a time"
        " (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)",
        f"{path}:5: field 'enrolled_at': is after sent_at (a step resolves after enrolment)",
        f"{path}:6: field 'group': 'control' is not one of treatment, holdout, global_holdout",
        f"{path}:7: field 'state': a control got no message: leave state empty for it",
        f"{path}:8: field 'state': 'pending_review' is not one of"
        " sent, failed, rejected, expired, cancelled",
    ]
    assert (summary.inserted, summary.rejected) == (1, 7)


def test_a_row_cannot_move_an_enrolment_to_the_other_group(db: Database, tmp_path: Path) -> None:
    import_customers(db, write(tmp_path, "c.csv", CUSTOMERS))
    header = "customer_id,cadence,step,sent_at,enrolled_at,group\n"
    import_contacts(db, write(tmp_path, "a.csv", header + "c1,s,one,2026-01-05,2026-01-01,\n"))
    path = write(tmp_path, "b.csv", header + "c1,s,two,2026-01-09,2026-01-01,holdout\n")
    summary = import_contacts(db, path)
    assert [str(p) for p in summary.problems] == [
        f"{path}:2: field 'group': this enrolment is treatment already;"
        " a row of it cannot be a control (check group or enrolled_at)"
    ]


def test_past_contacts_count_for_caps_and_reentry(db: Database, tmp_path: Path) -> None:
    rules = {
        "once": cadence("once", "event: purchase", "- name: only\n  template: t.j2\n", STARTS),
        "other": cadence("other", "event: purchase", "- name: only\n  template: t.j2\n", STARTS),
    }
    config = "timezone: UTC\npolicy: {caps: [{max: 1, per: 30d}]}\n"
    world = World(db, write_project(tmp_path / "p", rules, config=config))
    customer = world.customer("c1")
    past = write(
        tmp_path,
        "contacts.csv",
        f"customer_id,cadence,step,sent_at\nc1,once,only,{at(-3).isoformat()}\n",
    )
    assert import_contacts(db, past).inserted == 1
    world.event(customer, "purchase", at(0), amount=30)
    world.run(at(0, hours=1))
    # `once` (reentry never) does not enrol again; `other` enrols but the cap holds it.
    assert [(c, s) for c, _, s, _ in world.enrolments()] == [
        ("once", "finished"),
        ("other", "active"),
    ]
    assert [c[1:3] for c in world.contacts()] == [("once", "only")]
    assert ("only", "deferred", "cap") in world.decisions()
