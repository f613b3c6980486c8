"""One table-driven scenario per rule of docs/time.md, boundaries included.

Each case: cadence files, one customer's history, a list of real evaluations (run mode,
real SQLite, real templates, real matcher), and what the ledger, the enrolments and the
decisions must hold afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from evaluation_helpers import ONE_STEP, STARTS, World, at, cadence, write_project
from sqlalchemy import text

from engine.history.db import Database

pytestmark = pytest.mark.backends

TWO_STEPS = """
- name: first
  after: 2d
  expires: 1d
  template: t.j2
- name: second
  after: 3d
  template: t.j2
"""


@dataclass(frozen=True)
class Case:
    id: str
    rules: dict[str, str]
    history: list[tuple[str, datetime, dict[str, object]]]
    runs: list[datetime]
    contacts: list[tuple[str, str, datetime]]  # (cadence, step, planned_at)
    enrolments: list[tuple[str, datetime, str, int]] | None = None
    decisions: list[tuple[str | None, str, str]] = field(default_factory=list)  # must appear
    config: str = "timezone: UTC\n"


def purchase(day: float, **props: object) -> tuple[str, datetime, dict[str, object]]:
    return ("purchase", at(day), {"amount": 30, **props})


CASES = [
    Case(
        "due exactly at now is sent; not a second earlier",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS)},
        [purchase(0)],
        [at(2, seconds=-1), at(2)],
        [("c", "first", at(2))],
        [("c", at(0), "active", 1)],
    ),
    Case(
        "expiry exactly at now is still sendable",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS)},
        [purchase(0)],
        [at(3)],
        [("c", "first", at(3))],
    ),
    Case(
        "one second after expiry: expired, next step due from then",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS)},
        [purchase(0)],
        [at(3, seconds=1), at(6), at(6, seconds=1)],
        [("c", "second", at(6, seconds=1))],
        [("c", at(0), "finished", 2)],
        [("first", "expired", "expired"), ("second", "planned", "sent_to_outbox")],
    ),
    Case(
        "step k is due after step k-1 resolved, not after enrolment",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS)},
        [purchase(0)],
        [at(2.5), at(5), at(5.5)],
        [("c", "first", at(2.5)), ("c", "second", at(5.5))],
    ),
    Case(
        "after 0: the evaluation that enrols sends (enrol before due steps)",
        {"c": cadence("c", "event: purchase", ONE_STEP, STARTS)},
        [purchase(0)],
        [at(1)],
        [("c", "only", at(1))],
        [("c", at(0), "finished", 1)],
    ),
    Case(
        "go-live: history before the first evaluation never enrols",
        {"c": cadence("c", "event: purchase", ONE_STEP)},
        [purchase(0), purchase(2)],
        [at(1), at(3)],
        [("c", "only", at(3))],
        [("c", at(2), "finished", 1)],
    ),
    Case(
        "go-live: an event exactly at go-live counts",
        {"c": cadence("c", "event: purchase", ONE_STEP, "starts: 2026-03-02T12:00:00Z\n")},
        [purchase(0, order="at-start"), purchase(-1)],
        [at(1)],
        [("c", "only", at(1))],
        [("c", at(0), "finished", 1)],
    ),
    Case(
        "only events with occurred_at <= now exist",
        {"c": cadence("c", "event: purchase", ONE_STEP, STARTS)},
        [purchase(5)],
        [at(4)],
        [],
        [],
    ),
    Case(
        "one active enrolment per cadence: an event during it is not enrolled later either",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS + "reentry: always\n")},
        [purchase(0), purchase(1)],
        [at(0.5), at(1.5), at(2), at(5), at(6)],
        [("c", "first", at(2)), ("c", "second", at(5))],
        [("c", at(0), "finished", 2)],
    ),
    Case(
        "reentry never: one enrolment for life",
        {"c": cadence("c", "event: purchase", ONE_STEP, STARTS)},
        [purchase(0), purchase(3)],
        [at(1), at(4)],
        [("c", "only", at(1))],
    ),
    Case(
        "reentry always: a later event enrols again",
        {"c": cadence("c", "event: purchase", ONE_STEP, STARTS + "reentry: always\n")},
        [purchase(0), purchase(3)],
        [at(1), at(4)],
        [("c", "only", at(1)), ("c", "only", at(4))],
    ),
    Case(
        "reentry 10d: too soon after the last start, then allowed",
        {"c": cadence("c", "event: purchase", ONE_STEP, STARTS + "reentry: 10d\n")},
        [purchase(0), purchase(9), purchase(10)],
        [at(1), at(9.5), at(11)],
        [("c", "only", at(1)), ("c", "only", at(11))],
        [("c", at(0), "finished", 1), ("c", at(10), "finished", 1)],
    ),
    Case(
        "exit_on: an event after the start ends the enrolment",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS + "exit_on: [complaint]\n")},
        [purchase(0), ("complaint", at(1), {"text": "bad"})],
        [at(2)],
        [],
        [("c", at(0), "exited", 0)],
        [(None, "exited", "exit_event")],
    ),
    Case(
        # A refund, not a complaint: a complaint would also block proactive contact.
        "exit_on: an event exactly at the enrolment start does not end it",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS + "exit_on: [refund]\n")},
        [purchase(0), ("refund", at(0), {"amount": 30})],
        [at(2)],
        [("c", "first", at(2))],
        [("c", at(0), "active", 1)],
    ),
    Case(
        "unless: a reply since the start exits when the step is due, not before",
        {
            "c": cadence(
                "c",
                "event: purchase",
                "- name: first\n  after: 2d\n  unless: reply\n  template: t.j2\n",
                STARTS,
            )
        },
        [purchase(0), ("reply", at(1), {"text": "thanks", "post_id": "9"})],
        [at(1.5), at(2)],
        [],
        [("c", at(0), "exited", 0)],
        [("first", "exited", "unless_event")],
    ),
    Case(
        "unless: a reply exactly at the enrolment start does not count",
        {
            "c": cadence(
                "c",
                "event: purchase",
                "- name: first\n  after: 2d\n  unless: reply\n  template: t.j2\n",
                STARTS,
            )
        },
        [purchase(0), ("reply", at(0), {"text": "hi", "post_id": "9"})],
        [at(2)],
        [("c", "first", at(2))],
    ),
    Case(
        "holdout (99.9%, c1 is in it): steps resolve without messages, state stays held_out",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS + "holdout: 99.9%\n")},
        [purchase(0)],
        [at(2), at(5)],
        [],
        [("c", at(0), "held_out", 2)],
        [(None, "held_out", "held_out"), ("first", "held_out", "held_out")],
    ),
    Case(
        "global holdout: the customer is never contacted by any cadence",
        {"c": cadence("c", "event: purchase", ONE_STEP, STARTS)},
        [purchase(0)],
        [at(1)],
        [],
        [("c", at(0), "held_out", 1)],
        [(None, "held_out", "global_holdout")],
        config="timezone: UTC\npolicy: {global_holdout: 99.9%}\n",
    ),
    Case(
        "quiet hours: deferred in the customer's night, sent in the morning",
        {"c": cadence("c", "event: purchase", ONE_STEP, STARTS)},
        [("purchase", at(0, hours=10), {"amount": 30})],  # 22:00 UTC
        [at(0, hours=11), at(1, hours=-2)],  # 23:00 then 10:00 next day
        [("c", "only", at(1, hours=-2))],
        None,
        [("only", "deferred", "quiet_hours")],
        config='timezone: UTC\npolicy: {quiet_hours: "21:00-09:00"}\n',
    ),
    Case(
        "caps: the lower-priority cadence waits for the window to free up",
        {
            "a": cadence("a", "event: purchase", ONE_STEP, STARTS).replace(
                "priority: 50", "priority: 90"
            ),
            "b": cadence("b", "event: purchase", ONE_STEP, STARTS),
        },
        [purchase(0)],
        [at(0.5), at(1), at(1.5)],
        [("a", "only", at(0.5)), ("b", "only", at(1.5))],
        None,
        [("only", "deferred", "cap")],
        config="timezone: UTC\npolicy: {caps: [{max: 1, per: 1d}]}\n",
    ),
    Case(
        "opt-out word in a reply: suppressed at once, step dropped",
        {"c": cadence("c", "event: purchase", TWO_STEPS, STARTS)},
        [purchase(0), ("reply", at(1), {"text": "STOP please", "post_id": "5"})],
        [at(2)],
        [],
        [("c", at(0), "active", 1)],
        [("first", "dropped", "opted_out")],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_scenario(case: Case, db: Database, tmp_path: Path) -> None:
    world = World(db, write_project(tmp_path / "project", case.rules, config=case.config))
    customer = world.customer("c1")
    for type_, when, properties in case.history:
        world.event(customer, type_, when, **properties)
    for when in case.runs:
        world.run(when)
    assert [(c, s, t) for _, c, s, t in world.contacts()] == case.contacts
    if case.enrolments is not None:
        assert world.enrolments() == case.enrolments
    decisions = world.decisions()
    for expected in case.decisions:
        assert expected in decisions


def test_two_runs_at_one_now_equal_one_run(db: Database, tmp_path: Path) -> None:
    rules = {
        "c": cadence("c", "event: purchase", ONE_STEP, STARTS + "reentry: always\n"),
        "w": cadence("w", "when: count(purchase) >= 1", ONE_STEP, "reentry: 30d\n"),
    }
    world = World(db, write_project(tmp_path / "project", rules))
    customer = world.customer("c1")
    world.event(customer, "purchase", at(0), amount=30)
    first = world.run(at(1))
    counts = world.row_counts()
    second = world.run(at(1))
    after = world.row_counts()
    assert sum(first.planned.values()) == 2
    assert sum(second.planned.values()) == 0 and second.enrolled == 0
    assert {t: after[t] for t in ("enrolments", "contacts")} == {
        t: counts[t] for t in ("enrolments", "contacts")
    }


def test_condition_trigger_enrols_at_now_with_reentry(db: Database, tmp_path: Path) -> None:
    rules = {"w": cadence("w", "when: count(purchase) >= 2", ONE_STEP, "reentry: 5d\n")}
    world = World(db, write_project(tmp_path / "project", rules))
    customer = world.customer("c1")
    world.event(customer, "purchase", at(0), amount=30)
    world.run(at(1))  # condition false: count is 1
    world.event(customer, "purchase", at(2), amount=30)
    world.run(at(3))
    world.run(at(6))  # 3 days after the last start: reentry 5d says no
    world.run(at(8))
    assert [(c, s, t) for _, c, s, t in world.contacts()] == [
        ("w", "only", at(3)),
        ("w", "only", at(8)),
    ]
    assert [e[1] for e in world.enrolments()] == [at(3), at(8)]


def test_event_trigger_where_uses_ordinal(db: Database, tmp_path: Path) -> None:
    rules = {
        "first": cadence(
            "first",
            "event: purchase\nwhere: event.ordinal == 1 and event.amount >= 20",
            ONE_STEP,
            STARTS,
        )
    }
    world = World(db, write_project(tmp_path / "project", rules))
    small, big = world.customer("small"), world.customer("big")
    world.event(small, "purchase", at(0), amount=5)  # first purchase too small...
    world.event(small, "purchase", at(1), amount=50)  # ...and this one is not the first
    world.event(big, "purchase", at(0), amount=50)
    world.run(at(2))
    assert [(who, c) for who, c, _, _ in world.contacts()] == [("big", "first")]


def test_step_when_false_skips_to_the_next_step(db: Database, tmp_path: Path) -> None:
    steps = """
    - name: big-spender
      when: sum(purchase.amount, 365d) >= 100
      template: t.j2
    - name: everyone
      after: 1d
      template: t.j2
    """
    world = World(
        db, write_project(tmp_path / "p", {"c": cadence("c", "event: purchase", steps, STARTS)})
    )
    customer = world.customer("c1")
    world.event(customer, "purchase", at(0), amount=30)
    world.run(at(0.5))
    world.run(at(1.5))
    assert [(c, s, t) for _, c, s, t in world.contacts()] == [("c", "everyone", at(1.5))]
    assert ("big-spender", "skipped", "when_false") in world.decisions()


def test_variants_split_by_customer_and_stay_put(db: Database, tmp_path: Path) -> None:
    steps = "- name: gift\n  variants: {a: a.j2, b: b.j2}\n"
    templates = {"a.j2": "@{{ customer.handle }} gift A", "b.j2": "@{{ customer.handle }} gift B"}
    rules = {"c": cadence("c", "event: purchase", steps, STARTS)}
    world = World(db, write_project(tmp_path / "p", rules, templates=templates))
    for n in range(20):
        world.event(world.customer(f"c{n}"), "purchase", at(0), amount=30)
    first = world.preview(at(1))
    second = world.preview(at(1))
    variants = [c.variant for c in first.changes.contacts]
    assert variants == [c.variant for c in second.changes.contacts]
    assert set(variants) == {"a", "b"}
    for contact in first.changes.contacts:
        assert contact.text.endswith(f"gift {contact.variant.upper()}")


def test_date_trigger_at_local_midnight_and_feb_29(db: Database, tmp_path: Path) -> None:
    rules = {
        "bday": cadence("bday", "date: customer.birthday", ONE_STEP, STARTS + "reentry: 300d\n")
    }
    world = World(db, write_project(tmp_path / "p", rules))
    world.customer("kath", timezone="Asia/Kathmandu", birthday="1990-03-03")
    world.customer("leap", timezone="UTC", birthday="1992-02-29")
    # 2026-03-02T18:15Z is 2026-03-03 00:00 in Kathmandu (+05:45).
    world.run(datetime.fromisoformat("2026-03-02T18:14:59+00:00"))
    assert "kath" not in {who for who, _, _, _ in world.contacts()}
    kathmandu_midnight = datetime.fromisoformat("2026-03-02T18:15:00+00:00")
    world.run(kathmandu_midnight)
    world.run(kathmandu_midnight)
    entered = [(e[0], e[1]) for e in world.enrolments()]
    assert ("bday", kathmandu_midnight) in entered
    # 2026 is not a leap year: Feb 29 is celebrated on Feb 28 (already past at T0).
    assert ("bday", datetime.fromisoformat("2026-02-28T00:00:00+00:00")) in entered
    assert len(entered) == 2


def test_a_refused_text_waits_and_never_uses_up_a_cap(db: Database, tmp_path: Path) -> None:
    broken = "- name: only\n  template: broken.j2\n"
    rules = {
        "a": cadence("a", "event: purchase", broken, STARTS).replace(
            "priority: 50", "priority: 90"
        ),
        "b": cadence("b", "event: purchase", ONE_STEP, STARTS),
    }
    templates = {"t.j2": "@{{ customer.handle }} fine", "broken.j2": "no handle here"}
    config = "timezone: UTC\npolicy: {caps: [{max: 1, per: 1d}]}\n"
    world = World(db, write_project(tmp_path / "p", rules, config=config, templates=templates))
    world.event(world.customer("c1"), "purchase", at(0), amount=30)
    world.run(at(1))
    assert [(c, s) for _, c, s, _ in world.contacts()] == [("b", "only")]
    assert ("only", "deferred", "no_handle") in world.decisions()
    assert ("a", at(0), "active", 0) in world.enrolments()  # waits for a template fix


def test_a_customer_without_a_handle_waits_with_the_same_reason_as_a_text_without_it(
    db: Database, tmp_path: Path
) -> None:
    # One refusal, one name: nothing can address the customer, whichever side lacks the
    # handle; the detail says which.
    rules = {"a": cadence("a", "event: purchase", ONE_STEP, STARTS)}
    world = World(db, write_project(tmp_path / "p", rules))
    world.event(world.customer("c1", handle=""), "purchase", at(0), amount=30)
    world.run(at(1))
    assert world.contacts() == []
    assert world.decisions() == [("only", "deferred", "no_handle")]
    with db.read() as session:
        detail = session.execute(text("SELECT detail FROM decisions")).scalar_one()
    assert detail == "the customer has no X handle on file"


def test_channel_x_replies_once_to_the_summoning_post(db: Database, tmp_path: Path) -> None:
    reply = "- name: reply\n  expires: 1h\n  template: t.j2\n"
    rules = {"m": cadence("m", "event: mention", reply, STARTS + "reentry: always\n", "x")}
    world = World(db, write_project(tmp_path / "p", rules))
    customer = world.customer("c1")
    world.event(customer, "mention", at(0), post_id="111", text="hi @acme")
    world.event(customer, "mention", at(1), post_id="222", text="again @acme")
    world.run(at(0, minutes=30))
    world.run(at(1, minutes=30))
    world.run(at(1, minutes=30))
    with db.read() as session:
        rows = session.execute(text("SELECT channel, state, in_reply_to FROM contacts ORDER BY id"))
        assert [tuple(r) for r in rows] == [("x", "planned", "111"), ("x", "planned", "222")]


def test_decisions_are_kept_for_the_configured_time(db: Database, tmp_path: Path) -> None:
    """retention.decisions: a run deletes decisions older than that, counted from its now."""
    rules = {"w": cadence("w", "when: count(purchase) >= 1", ONE_STEP, "reentry: 5d\n")}
    config = "timezone: UTC\nretention: {decisions: 10d}\n"
    world = World(db, write_project(tmp_path / "project", rules, config=config))
    customer = world.customer("c1")
    world.event(customer, "purchase", at(0), amount=30)
    world.run(at(1))
    world.run(at(7))
    assert len(world.decisions()) == 2
    world.run(at(12))  # at(1) is now more than 10 days old; at(7) is not
    with db.read() as session:
        kept = session.execute(text("SELECT decided_at FROM decisions ORDER BY id")).scalars()
        assert [str(t)[:10] for t in kept] == ["2026-03-09", "2026-03-14"]
