"""What `explain` shows beside the decisions: values, caps, quiet hours, the next look.

Everything here reads what the explained evaluation itself used — the fact sheet the
pipeline builds (engine/evaluation/matching.py), the enrolments it left, the ledger rows
its caps count — and judges sub-expressions with the reference evaluator
(engine/conditions/evaluate.py), the meaning the matcher is tested against. Nothing here
decides again whether to enrol or send: that answer comes from the evaluation.

- a condition is shown comparison by comparison, each side with its value:
  `sum(purchase.amount, 365d) = 84.5 >= 100 → false`;
- each cap with the contacts that fill it: `cap 1 per 7d: 1 of 1 used: 2026-11-20T10:00:00Z
  (win-back/winback)`; min_gap with the last contact;
- quiet hours in the customer's own time;
- `wake_at`: the next time the customer will be looked at if nothing new happens (see
  `estimated_wake_at` for what it covers).

The json form of the same answer is engine/modes/explain_json.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.conditions import Compare, Expr, Facts, evaluate, pretty
from engine.conditions.ast import ListLiteral, Literal, walk
from engine.conditions.evaluate import value_of
from engine.config import Policy
from engine.durations import format_duration
from engine.evaluation.matching import FactSheet
from engine.evaluation.records import DecisionRecord, EnrolmentRecord, json_safe
from engine.history.db import Database
from engine.history.models import Contact
from engine.ledger.decisions import DecisionOutcome, Reason
from engine.ledger.states import NOT_COUNTING
from engine.modes.preview_report import local_time
from engine.policy.quiet_hours import is_quiet, quiet_until
from engine.strategy.model import Cadence, Condition, ConditionTrigger, EventTrigger

if TYPE_CHECKING:
    from engine.modes.explain import Explained


@dataclass(frozen=True)
class Comparison:
    """One comparison inside a condition, with the values of both sides."""

    text: str  # `sum(purchase.amount, 365d) = 84.5 >= 100`
    left: Any
    right: Any
    holds: bool

    def line(self) -> str:
        return f"{self.text} → {'true' if self.holds else 'false'}"


@dataclass(frozen=True)
class ConditionValues:
    """A whole condition (a trigger's `when`/`where`, a step's `when`) as it stood at now."""

    role: str  # "when", "where (event 2026-…)", "step 'nudge' when"
    text: str
    holds: bool
    comparisons: tuple[Comparison, ...]
    single: bool = False  # the condition is one comparison: one line says it all

    def lines(self) -> list[str]:
        head = f"{self.role}: {self.text} → {'true' if self.holds else 'false'}"
        if self.single:
            return [f"{self.role}: {self.comparisons[0].line()}"]
        return [head, *(f"  {c.line()}" for c in self.comparisons)]


def shown(value: Any) -> str:
    """A value as the condition language writes it; floats with two decimals when inexact."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}" if value != int(value) else f"{value:g}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, datetime):
        return str(json_safe(value))
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def _side(expr: Expr, facts: Facts) -> tuple[str, Any]:
    value = value_of(expr, facts)
    if isinstance(expr, Literal | ListLiteral):
        return pretty(expr), value
    return f"{pretty(expr)} = {shown(value)}", value


def comparisons(expr: Expr, facts: Facts) -> tuple[Comparison, ...]:
    """Every comparison of `expr`, outermost first, judged by the reference evaluator."""
    found = []
    for node in walk(expr):
        if isinstance(node, Compare):
            left_text, left = _side(node.left, facts)
            right_text, right = _side(node.right, facts)
            text = f"{left_text} {node.op} {right_text}"
            found.append(Comparison(text, left, right, evaluate(node, facts)))
    return tuple(found)


def condition_values(role: str, condition: Condition, facts: Facts) -> ConditionValues:
    expr = condition.expr
    return ConditionValues(
        role,
        condition.text,
        evaluate(expr, facts),
        comparisons(expr, facts),
        single=isinstance(expr, Compare),
    )


def cadence_conditions(
    cadence: Cadence,
    sheet: FactSheet,
    *,
    enrolments: Sequence[EnrolmentRecord],
    events: Sequence[tuple[int, str, datetime]],
    go_live: datetime,
) -> list[ConditionValues]:
    """The trigger's condition and the `when` of the step the customer is at.

    `events` are (id, type, occurred_at) of the customer's events: an event trigger's
    `where` is shown for the latest event of its type since go-live (it is judged once
    per event; older events never enrol).
    """
    found = []
    trigger = cadence.trigger
    if isinstance(trigger, ConditionTrigger):
        found.append(condition_values("when", trigger.when, sheet.facts(None)))
    elif isinstance(trigger, EventTrigger) and trigger.where is not None:
        latest = [e for e in events if e[1] == trigger.event and e[2] >= go_live]
        if latest:
            event_id, _, occurred = latest[-1]
            role = f"where (latest {trigger.event}, {json_safe(occurred)})"
            found.append(condition_values(role, trigger.where, sheet.facts(event_id)))
    ongoing = [e for e in enrolments if e.ongoing]
    if ongoing:
        enrolment = ongoing[-1]
        index = enrolment.next_step_index([s.name for s in cadence.steps])
        if index < len(cadence.steps) and (step := cadence.steps[index]).when is not None:
            facts = sheet.facts(enrolment.trigger_event_id)
            found.append(condition_values(f"step '{step.name}' when", step.when, facts))
    return found


@dataclass(frozen=True)
class CapUse:
    """One limit and the contacts inside its window at `now`."""

    rule: str  # "cap 1 per 7d", "cadence cap 2 per 30d (win-back)", "min_gap 24h"
    limit: int
    per: timedelta
    contacts: tuple[tuple[datetime, str, str], ...]  # (planned_at, cadence, step)

    @property
    def full(self) -> bool:
        return len(self.contacts) >= self.limit

    def line(self) -> str:
        used = ", ".join(f"{json_safe(t)} ({c}/{s})" for t, c, s in self.contacts)
        state = "full" if self.full else "room left"
        if self.rule.startswith("min_gap"):
            state = "waits" if self.contacts else "clear"
            return f"{self.rule}: {used or 'no contact inside'} → {state}"
        filled = f": {used}" if used else ""
        return f"{self.rule}: {len(self.contacts)} of {self.limit} used{filled} → {state}"


def counted_contacts(
    db: Database, customer_id: int, *, now: datetime, within: timedelta
) -> list[tuple[datetime, str, str]]:
    """The customer's ledger rows that count for caps, planned in (now − within, now]."""
    query = (
        select(Contact.planned_at, Contact.cadence, Contact.step, Contact.state)
        .where(Contact.customer_id == customer_id)
        .where(Contact.planned_at > now - within, Contact.planned_at <= now)
        .order_by(Contact.planned_at, Contact.id)
    )
    with db.read() as session:
        rows = session.execute(query).all()
    return [(t, c, s) for t, c, s, state in rows if state not in NOT_COUNTING]


def cap_uses(
    db: Database,
    customer_id: int,
    *,
    policy: Policy,
    cadences: Sequence[Cadence],
    planned_now: Sequence[DecisionRecord],
    now: datetime,
) -> list[CapUse]:
    """Caps, cadence caps and min_gap, each with what fills it — this evaluation's sends too
    (they count at `now`, as the policy counts them for the candidates after them)."""
    windows = [c.per for c in policy.caps] + [c.cap.per for c in cadences if c.cap]
    if policy.min_gap is not None:
        windows.append(policy.min_gap)
    if not windows:
        return []
    ledger = counted_contacts(db, customer_id, now=now, within=max(windows))
    ledger += [(now, d.cadence, d.step or "") for d in planned_now]

    def inside(per: timedelta, cadence: str | None = None) -> tuple[tuple[datetime, str, str], ...]:
        return tuple(
            row for row in ledger if row[0] > now - per and (cadence is None or row[1] == cadence)
        )

    uses = [
        CapUse(f"cap {c.max} per {format_duration(c.per)}", c.max, c.per, inside(c.per))
        for c in policy.caps
    ]
    uses += [
        CapUse(
            f"cadence cap {c.cap.max} per {format_duration(c.cap.per)} ({c.name})",
            c.cap.max,
            c.cap.per,
            inside(c.cap.per, c.name),
        )
        for c in cadences
        if c.cap is not None
    ]
    if policy.min_gap is not None:
        uses.append(
            CapUse(
                f"min_gap {format_duration(policy.min_gap)}",
                1,
                policy.min_gap,
                inside(policy.min_gap),
            )
        )
    return uses


def quiet_hours_line(policy: Policy, timezone: str, now: datetime) -> str | None:
    quiet = policy.quiet_hours
    if quiet is None:
        return None
    window = f"{quiet.start:%H:%M}-{quiet.end:%H:%M}"
    local = local_time(now, timezone)
    if not is_quiet(now, timezone, quiet):
        return f"quiet hours {window} ({timezone}): local time {local} → outside, may send"
    until = quiet_until(now, timezone, quiet)
    ends = f", until {local_time(until, timezone)}" if until is not None else ""
    return f"quiet hours {window} ({timezone}): local time {local} → inside{ends}"


def estimated_wake_at(
    *,
    now: datetime,
    cadences: Sequence[Cadence],
    enrolments: Sequence[EnrolmentRecord],
    decisions: Sequence[DecisionRecord],
    policy: Policy,
    timezone: str,
    caps: Sequence[CapUse],
) -> tuple[datetime | None, str]:
    """The next moment the customer's outcome can change without a new event, and why.

    Covers: a step becoming due, a waiting step's expiry, the end of quiet hours for a
    step held by them, a cap or min_gap window freeing for a step held by it. Not covered:
    a time-dependent condition flipping (`days_since`, windowed `count`/`sum`), a date
    trigger's next date, a reentry duration running out; a new event wakes the customer
    anyway. The incremental evaluation keeps the exact per-customer `wake_at`.
    """
    by_name = {c.name: c for c in cadences}
    moments: list[tuple[datetime, str]] = []
    waiting = [d for d in decisions if d.outcome is DecisionOutcome.DEFERRED]
    for enrolment in enrolments:
        cadence = by_name.get(enrolment.cadence)
        if cadence is None or not enrolment.ongoing:
            continue
        index = enrolment.next_step_index([s.name for s in cadence.steps])
        if index >= len(cadence.steps):
            continue
        step = cadence.steps[index]
        due = enrolment.next_due(step.after)
        if due > now:
            moments.append((due, f"{cadence.name}/{step.name} is due"))
        elif step.expires is not None and due + step.expires > now:
            moments.append((due + step.expires, f"{cadence.name}/{step.name} expires"))
    for d in waiting:
        if d.reason is Reason.QUIET_HOURS:
            until = quiet_until(now, timezone, policy.quiet_hours)
            if until is not None:
                moments.append((until, "quiet hours end"))
        elif d.reason in (Reason.CAP, Reason.CADENCE_CAP, Reason.MIN_GAP):
            for use in caps:
                if use.full and use.contacts:
                    frees = _frees_at(use, now)
                    moments.append((frees, f"{use.rule} frees"))
    if not moments:
        return None, "nothing is due: only a new event (or a rule change) brings a change"
    moment, why = min(moments)
    return moment, why


def _frees_at(use: CapUse, now: datetime) -> datetime:
    """When the oldest contact that keeps the window full leaves it."""
    times = sorted(t for t, _, _ in use.contacts)
    return times[max(len(times) - use.limit, 0)] + use.per


@dataclass(frozen=True)
class ExplainValues:
    """The values of one explained evaluation, by cadence and for the customer."""

    conditions: dict[str, list[ConditionValues]]
    caps: list[CapUse]
    quiet_hours: str | None
    wake_at: datetime | None
    wake_reason: str

    @classmethod
    def of(cls, run: Explained) -> ExplainValues:
        history, now = run.history, run.now
        sheet = run.evaluation.conditions.facts_of(history, now)  # what the pipeline built
        events = [(e.id, e.type, e.occurred_at) for e in history.events]
        cadences = run.evaluation.strategy.cadences
        conditions = {
            c.name: cadence_conditions(
                c,
                sheet,
                enrolments=[e for e in run.enrolments if e.cadence == c.name],
                events=events,
                go_live=run.evaluation.go_lives[c.name],
            )
            for c in cadences
        }
        policy, timezone = run.settings.policy, history.customer.timezone
        decisions = run.sink.changes.decisions
        planned = [d for d in decisions if d.outcome is DecisionOutcome.PLANNED]
        caps = cap_uses(
            run.db,
            history.customer.id,
            policy=policy,
            cadences=cadences,
            planned_now=planned,
            now=now,
        )
        wake_at, why = estimated_wake_at(
            now=now,
            cadences=cadences,
            enrolments=run.enrolments,
            decisions=decisions,
            policy=policy,
            timezone=timezone,
            caps=caps,
        )
        return cls(conditions, caps, quiet_hours_line(policy, timezone, now), wake_at, why)

    def condition_lines(self, cadence: str) -> list[str]:
        return [line for c in self.conditions.get(cadence, []) for line in c.lines()]

    def customer_lines(self) -> list[str]:
        lines = ["contact policy:"]
        lines += [f"  {use.line()}" for use in self.caps]
        if self.quiet_hours:
            lines.append(f"  {self.quiet_hours}")
        if len(lines) == 1:
            lines.append("  no caps, min_gap or quiet hours configured")
        when = json_safe(self.wake_at) if self.wake_at else "at the next new event"
        lines.append(f"next look (wake_at): {when} — {self.wake_reason}")
        return lines
