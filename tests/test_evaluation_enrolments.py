"""Advancing one enrolment returns what it decided; it appends to nothing it was given."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from policy_helpers import NOW, cadence, customer

from engine.evaluation.enrolments import Advanced, DueStep, Enrolments
from engine.evaluation.records import CustomerHistory, EnrolmentRecord
from engine.ledger.decisions import DecisionOutcome, Reason
from engine.ledger.states import EnrolmentState
from engine.strategy.model import Cadence


def two_steps() -> Cadence:
    one = cadence("welcome")
    step = one.steps[0]
    steps = (dataclasses.replace(step, name="first"), dataclasses.replace(step, name="second"))
    return dataclasses.replace(one, steps=steps)


def setting(state: EnrolmentState) -> tuple[Enrolments, EnrolmentRecord]:
    enrolment = EnrolmentRecord(
        id=1,
        customer_id=1,
        cadence="welcome",
        entered_at=NOW - timedelta(days=1),
        trigger_event_id=None,
        step_reached=0,
        last_resolved_at=None,
        state=state,
        ended_at=None,
        rules_version="v",
    )
    history = CustomerHistory(customer(), None, [], [enrolment], [], set(), [], set())
    enrolments = Enrolments(
        history,
        NOW,
        step_when=lambda _enrolment, _step: True,
        holdout_reason=lambda _cadence: Reason.GLOBAL_HOLDOUT,
    )
    return enrolments, enrolment


def test_a_due_step_comes_back_with_no_decision() -> None:
    enrolments, enrolment = setting(EnrolmentState.ACTIVE)
    advanced = enrolments.advance(enrolment, two_steps())
    assert isinstance(advanced.due, DueStep)
    assert (advanced.due.step.name, advanced.due.step_index) == ("first", 0)
    assert advanced.decisions == ()


def test_a_held_out_enrolment_resolves_every_due_step_and_finishes() -> None:
    enrolments, enrolment = setting(EnrolmentState.HELD_OUT)
    advanced = enrolments.advance(enrolment, two_steps())
    assert advanced == Advanced(None, advanced.decisions)
    assert [(d.step, d.outcome, d.reason) for d in advanced.decisions] == [
        ("first", DecisionOutcome.HELD_OUT, Reason.GLOBAL_HOLDOUT),
        ("second", DecisionOutcome.HELD_OUT, Reason.GLOBAL_HOLDOUT),
    ]
    assert (enrolment.state, enrolment.ended_at, enrolment.step_reached) == (
        EnrolmentState.HELD_OUT,
        NOW,
        2,
    )
