"""The enrolment state machine: new enrolments, exits, due steps.

Everything here works on one customer's in-memory history at one `now`; what needs a
message is returned as a `DueStep` for the contact policy, and every other outcome
(held out, exited, expired, skipped) is written down as a decision with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.clock import utc_text
from engine.durations import format_duration
from engine.evaluation.records import CustomerHistory, DecisionRecord, EnrolmentRecord
from engine.evaluation.triggers import TriggerPlan
from engine.facts.model import EventFacts
from engine.ledger.decisions import DecisionOutcome as Outcome
from engine.ledger.decisions import Reason
from engine.ledger.states import EnrolmentState
from engine.strategy.model import Cadence, Step

# (cadence, trigger event id or None for a `when` trigger) whose condition holds.
TriggerMatches = Collection[tuple[str, int | None]]
HoldoutReason = Callable[[Cadence], Reason | None]  # global_holdout, held_out or None
StepWhen = Callable[[EnrolmentRecord, Step], bool]  # a step's `when` at now


@dataclass(frozen=True)
class DueStep:
    """A step that wants a message now: the policy and the templates decide the rest."""

    enrolment: EnrolmentRecord
    cadence: Cadence
    step: Step
    step_index: int
    due: datetime
    trigger_event: EventFacts | None


def decision(
    history: CustomerHistory,
    *,
    cadence: str,
    step: str | None,
    outcome: Outcome,
    reason: Reason,
    detail: str,
    at: datetime,
) -> DecisionRecord:
    customer = history.customer
    return DecisionRecord(
        customer_id=customer.id,
        cadence=cadence,
        step=step,
        outcome=outcome,
        reason=reason,
        detail=detail,
        decided_at=at,
        customer_external_id=customer.external_id,
        handle=customer.handle,
    )


@dataclass(frozen=True)
class Advanced:
    """What advancing one enrolment produced: the step that wants a message (None when
    nothing is due or the enrolment ended) and the decisions for the steps resolved
    without one. The enrolment record itself is updated in place (it is the mutable
    working copy the sink writes back)."""

    due: DueStep | None
    decisions: tuple[DecisionRecord, ...] = ()


@dataclass(frozen=True)
class Enrolments:
    """One customer's enrolments at one `now`: enrol, exit and advance them.

    Fixed for the customer's evaluation: the history (whose enrolment records change in
    place), `now`, how a step's `when` is checked, and which holdout the customer is in.
    """

    history: CustomerHistory
    now: datetime
    step_when: StepWhen
    holdout_reason: HoldoutReason

    def decision(
        self, cadence: str, step: str | None, *, outcome: Outcome, reason: Reason, detail: str
    ) -> DecisionRecord:
        return decision(
            self.history,
            cadence=cadence,
            step=step,
            outcome=outcome,
            reason=reason,
            detail=detail,
            at=self.now,
        )

    def enrol(
        self,
        cadences: Sequence[Cadence],
        *,
        plan: TriggerPlan,
        matches: TriggerMatches,
        rules_version: str,
    ) -> tuple[list[EnrolmentRecord], list[DecisionRecord]]:
        """New enrolments, at most one per cadence; held-out ones say why."""
        history, now = self.history, self.now
        created: list[EnrolmentRecord] = []
        decisions: list[DecisionRecord] = []
        for cadence in cadences:
            start = _trigger_start(cadence, plan, matches, now)
            if start is None:
                continue
            entered_at, event_id = start
            reason = self.holdout_reason(cadence)
            enrolment = EnrolmentRecord(
                id=None,
                customer_id=history.customer.id,
                cadence=cadence.name,
                entered_at=entered_at,
                trigger_event_id=event_id,
                step_reached=0,
                last_resolved_at=None,
                state=EnrolmentState.HELD_OUT if reason else EnrolmentState.ACTIVE,
                ended_at=None,
                rules_version=rules_version,
                changed=True,
            )
            history.enrolments.append(enrolment)
            created.append(enrolment)
            if reason:
                detail = "control group: no message, still measured"
                decisions.append(
                    self.decision(
                        cadence.name, None, outcome=Outcome.HELD_OUT, reason=reason, detail=detail
                    )
                )
        return created, decisions

    def apply_exits(self, cadences: dict[str, Cadence]) -> list[DecisionRecord]:
        """`exit_on`: an event of those types since the enrolment began ends it."""
        history, now = self.history, self.now
        decisions = []
        for enrolment in history.enrolments:
            cadence = cadences.get(enrolment.cadence)
            if cadence is None or not enrolment.ongoing or not cadence.exit_on:
                continue
            event = first_event_between(history, cadence.exit_on, enrolment.entered_at, now)
            if event is not None:
                enrolment.end(EnrolmentState.EXITED, now)
                detail = f"{event.type} at {utc_text(event.occurred_at)}"
                decisions.append(
                    self.decision(
                        cadence.name,
                        None,
                        outcome=Outcome.EXITED,
                        reason=Reason.EXIT_EVENT,
                        detail=detail,
                    )
                )
        return decisions

    def advance(self, enrolment: EnrolmentRecord, cadence: Cadence) -> Advanced:
        """Resolve what needs no message; stop at the first step that wants one (or is not
        due).

        Expiry, skipping and held-out resolution happen at `now`, so the next step is due
        `after` from now; the loop goes on while the next step is due already.
        """
        history, now = self.history, self.now
        decisions: list[DecisionRecord] = []
        while enrolment.ongoing:
            index = enrolment.next_step_index([s.name for s in cadence.steps])
            if index >= len(cadence.steps):
                enrolment.end(EnrolmentState.FINISHED, now)
                break
            step = cadence.steps[index]
            due = enrolment.next_due(step.after)
            if due > now:
                break

            def note(outcome: Outcome, reason: Reason, detail: str, step: Step = step) -> None:
                decisions.append(
                    self.decision(
                        cadence.name, step.name, outcome=outcome, reason=reason, detail=detail
                    )
                )

            if step.unless and (
                event := first_event_between(history, (step.unless,), enrolment.entered_at, now)
            ):
                enrolment.end(EnrolmentState.EXITED, now)
                detail = f"{event.type} at {utc_text(event.occurred_at)}"
                note(Outcome.EXITED, Reason.UNLESS_EVENT, detail)
                break
            if step.expires is not None and now > due + step.expires:
                enrolment.resolve_step(now, index, step.name, outcome=Outcome.EXPIRED)
                detail = f"due {utc_text(due)}, not sendable within {format_duration(step.expires)}"
                note(Outcome.EXPIRED, Reason.EXPIRED, detail)
                continue
            if step.when is not None and not self.step_when(enrolment, step):
                enrolment.resolve_step(now, index, step.name, outcome=Outcome.SKIPPED)
                note(Outcome.SKIPPED, Reason.WHEN_FALSE, f"when: {step.when.text}")
                continue
            if enrolment.state is EnrolmentState.HELD_OUT:
                reason = self.holdout_reason(cadence) or Reason.HELD_OUT
                enrolment.resolve_step(now, index, step.name, outcome=reason)  # which holdout
                note(Outcome.HELD_OUT, reason, "control group: no message")
                continue
            trigger = _event_by_id(history, enrolment.trigger_event_id)
            return Advanced(
                DueStep(enrolment, cadence, step, index, due, trigger), tuple(decisions)
            )
        return Advanced(None, tuple(decisions))


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


def _event_by_id(history: CustomerHistory, event_id: int | None) -> EventFacts | None:
    if event_id is None:
        return None
    for event in history.events:
        if event.id == event_id:
            return event
    return None
