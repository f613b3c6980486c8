"""The enrolment state machine of DESIGN §7: new enrolments, exits, due steps.

Everything here works on one customer's in-memory history at one `now`; what needs a
message is returned as a `DueStep` for the contact policy, and every other outcome
(held out, exited, expired, skipped) is written down as a decision with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.evaluation.records import CustomerHistory, DecisionRecord, EnrolmentState
from engine.evaluation.triggers import TriggerPlan
from engine.policy.candidates import EventFacts
from engine.strategy.model import Cadence, Step

# (cadence, trigger event id or None for a `when` trigger) whose condition holds.
TriggerMatches = Collection[tuple[str, int | None]]
HoldoutReason = Callable[[Cadence], str | None]  # "global_holdout", "held_out" or None
StepWhen = Callable[[EnrolmentState, Step], bool]  # a step's `when` at now


@dataclass(frozen=True)
class DueStep:
    """A step that wants a message now: the policy and the templates decide the rest."""

    enrolment: EnrolmentState
    cadence: Cadence
    step: Step
    step_index: int
    due: datetime
    trigger_event: EventFacts | None


def decision(
    history: CustomerHistory,
    cadence: str,
    step: str | None,
    outcome: str,
    reason: str,
    detail: str,
    now: datetime,
) -> DecisionRecord:
    customer = history.customer
    return DecisionRecord(
        customer_id=customer.id,
        cadence=cadence,
        step=step,
        outcome=outcome,
        reason=reason,
        detail=detail,
        decided_at=now,
        customer_external_id=customer.external_id,
        handle=customer.handle,
    )


def enrol(
    history: CustomerHistory,
    cadences: Sequence[Cadence],
    plan: TriggerPlan,
    matches: TriggerMatches,
    holdout_reason: HoldoutReason,
    now: datetime,
    rules_version: str,
) -> tuple[list[EnrolmentState], list[DecisionRecord]]:
    """New enrolments, at most one per cadence; held-out ones say why."""
    created: list[EnrolmentState] = []
    decisions: list[DecisionRecord] = []
    for cadence in cadences:
        start = _trigger_start(cadence, plan, matches, now)
        if start is None:
            continue
        entered_at, event_id = start
        reason = holdout_reason(cadence)
        enrolment = EnrolmentState(
            id=None,
            customer_id=history.customer.id,
            cadence=cadence.name,
            entered_at=entered_at,
            trigger_event_id=event_id,
            step_reached=0,
            last_resolved_at=None,
            state="held_out" if reason else "active",
            ended_at=None,
            rules_version=rules_version,
            changed=True,
        )
        history.enrolments.append(enrolment)
        created.append(enrolment)
        if reason:
            detail = "control group: no message, still measured"
            decisions.append(decision(history, cadence.name, None, "held_out", reason, detail, now))
    return created, decisions


def _trigger_start(
    cadence: Cadence, plan: TriggerPlan, matches: TriggerMatches, now: datetime
) -> tuple[datetime, int | None] | None:
    name = cadence.name
    for event in plan.events.get(name, ()):
        where = getattr(cadence.trigger, "where", None)
        if where is None or (name, event.id) in matches:
            return event.occurred_at, event.id
    if name in plan.conditions and (name, None) in matches:
        return now, None
    if name in plan.dates:
        return plan.dates[name], None
    return None


def first_event_between(
    history: CustomerHistory, types: Collection[str], after: datetime, now: datetime
) -> EventFacts | None:
    """The first event of one of `types` with after < occurred_at <= now."""
    for event in history.events:
        if event.type in types and after < event.occurred_at <= now:
            return event
    return None


def apply_exits(
    history: CustomerHistory, cadences: dict[str, Cadence], now: datetime
) -> list[DecisionRecord]:
    """`exit_on`: an event of those types since the enrolment began ends it."""
    decisions = []
    for enrolment in history.enrolments:
        cadence = cadences.get(enrolment.cadence)
        if cadence is None or not enrolment.ongoing or not cadence.exit_on:
            continue
        event = first_event_between(history, cadence.exit_on, enrolment.entered_at, now)
        if event is not None:
            enrolment.end("exited", now)
            detail = f"{event.type} at {event.occurred_at.isoformat()}"
            decisions.append(
                decision(history, cadence.name, None, "exited", "exit_event", detail, now)
            )
    return decisions


def advance(
    history: CustomerHistory,
    enrolment: EnrolmentState,
    cadence: Cadence,
    now: datetime,
    step_when: StepWhen,
    holdout_reason: HoldoutReason,
    decisions: list[DecisionRecord],
) -> DueStep | None:
    """Resolve what needs no message; stop at the first step that wants one (or is not due).

    Expiry, skipping and held-out resolution happen at `now`, so the next step is due
    `after` from now; the loop goes on while the next step is due already.
    """
    while enrolment.ongoing:
        index = enrolment.next_step_index([s.name for s in cadence.steps])
        if index >= len(cadence.steps):
            enrolment.end("finished", now)
            return None
        step = cadence.steps[index]
        due = enrolment.next_due(step.after)
        if due > now:
            return None

        def note(outcome: str, reason: str, detail: str, step_name: str = step.name) -> None:
            decisions.append(
                decision(history, cadence.name, step_name, outcome, reason, detail, now)
            )

        if step.unless and (
            event := first_event_between(history, (step.unless,), enrolment.entered_at, now)
        ):
            enrolment.end("exited", now)
            note("exited", "unless_event", f"{event.type} at {event.occurred_at.isoformat()}")
            return None
        if step.expires is not None and now > due + step.expires:
            enrolment.resolve_step(now, index, step.name, outcome="expired")
            note("expired", "expired", f"due {due.isoformat()}, not sendable within {step.expires}")
            continue
        if step.when is not None and not step_when(enrolment, step):
            enrolment.resolve_step(now, index, step.name, outcome="skipped")
            note("skipped", "when_false", f"when: {step.when.text}")
            continue
        if enrolment.state == "held_out":
            group = holdout_reason(cadence) or "held_out"  # global_holdout or held_out
            enrolment.resolve_step(now, index, step.name, outcome=group)
            note("held_out", group, "control group: no message")
            continue
        trigger = _event_by_id(history, enrolment.trigger_event_id)
        return DueStep(enrolment, cadence, step, index, due, trigger)
    return None


def _event_by_id(history: CustomerHistory, event_id: int | None) -> EventFacts | None:
    if event_id is None:
        return None
    for event in history.events:
        if event.id == event_id:
            return event
    return None
