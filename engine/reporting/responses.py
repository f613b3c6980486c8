"""Who was exposed when, and who responded: the measurement units of `rapport report`.

A unit is one step of one enrolment (for step tables) or one enrolment (for cadence
tables, starting at its first step). Its response window starts when the step resolved,
read from the ledger's `step_resolutions`:

- treatment: when the message was planned (or the policy dropped it, or it expired);
- control: when the step would have been sent. A held-out enrolment resolves its steps
  as if sent (no message), so treatment and control are compared on the same clock.

A unit responded when an event of a response type (`report.responses`, default
`purchase`) occurred in `(start, start + window]`; its value is the sum of
`report.value_property` over those events. Steps skipped by their `when` are no
exposure in either group and are left out. A unit whose window has not closed by the
report's time is "maturing": counted apart, never as a non-responder.

The primary comparison is intent-to-treat: every treatment unit, whatever happened to its
message (sent, rejected in review, dropped, still queued), against every control unit.
Only that comparison keeps the two groups alike; "sent only" is shown as secondary.

Replies are engagement, not responses: a control cannot reply to a message it never got.

Why a `step_resolutions` table, not contact rows in a non-sending state for held-out steps:
`contacts` is the ledger of messages that caps, dedupe, delivery and review all read. A
"held out" contact state would have to be excluded by every one of them, now and in every
future reader, and one forgotten filter would count a control against a cap or hand it to
the outbox. A separate table that only measurement reads cannot be delivered or counted
by construction. The evaluation writes a row for every resolved step (treatment too), so
both groups' windows come from the same record; see docs/measurement.md.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, select

from engine.config import Report
from engine.history.db import Database
from engine.history.models import Contact, Event, StepResolution
from engine.ledger.states import ContactState

Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])
NO_EXPOSURE = ("skipped",)  # a step whose `when` was false: no message in either group
REPLY = "reply"  # engagement with our messages, reported apart


@dataclass(frozen=True)
class Scope:
    """Which units a report covers: window starts in [since, until), and its clock."""

    since: datetime | None
    until: datetime | None
    cadence: str | None
    as_of: datetime  # responses after this do not exist yet; windows must have closed

    def select(self, query: Query, cadence: Any, moment: Any) -> Query:
        """`query` narrowed to this scope, by its cadence column and time column."""
        if self.cadence is not None:
            query = query.where(cadence == self.cadence)
        if self.since is not None:
            query = query.where(moment >= self.since)
        if self.until is not None:
            query = query.where(moment < self.until)
        return query


@dataclass(frozen=True)
class Unit:
    customer_id: int
    enrolment_id: int
    cadence: str
    step: str
    arm: str  # treatment | control
    holdout: str | None  # held_out | global_holdout for a control, else None
    start: datetime
    message: ContactState | None  # the state of the step's message; None: no message
    variant: str
    responded_after: timedelta | None  # first response, after start; None: none
    revenue: float
    replies: int

    @property
    def responded(self) -> bool:
        return self.responded_after is not None

    @property
    def sent(self) -> bool:
        return self.message is ContactState.SENT


@dataclass(frozen=True)
class Units:
    steps: tuple[Unit, ...]  # one per enrolment and step
    enrolments: tuple[Unit, ...]  # one per enrolment, at its first step
    maturing: int  # step units whose window is still open


@dataclass(frozen=True)
class _Resolution:
    enrolment_id: int
    customer_id: int
    cadence: str
    step: str
    arm: str
    outcome: str
    resolved_at: datetime


def load_units(db: Database, scope: Scope, report: Report) -> Units:
    resolutions = _resolutions(db, scope)
    global_ids = {r.enrolment_id for r in resolutions if r.outcome == "global_holdout"}
    messages = _messages(db, scope)
    closed: list[_Resolution] = []
    maturing = 0
    for r in resolutions:
        if r.outcome in NO_EXPOSURE:
            continue
        if r.resolved_at + report.window > scope.as_of:
            maturing += 1
        else:
            closed.append(r)
    events = _response_events(db, closed, scope, report)
    steps = tuple(_unit(r, global_ids, messages, events, report) for r in closed)
    first: dict[int, Unit] = {}
    for unit in sorted(steps, key=lambda u: (u.start, u.step)):
        first.setdefault(unit.enrolment_id, unit)
    return Units(steps, tuple(first.values()), maturing)


def _unit(
    r: _Resolution,
    global_ids: set[int],
    messages: dict[tuple[int, str], tuple[ContactState, str]],
    events: dict[int, _CustomerEvents],
    report: Report,
) -> Unit:
    state, variant = messages.get((r.enrolment_id, r.step), (None, ""))
    control = r.arm == "control"
    holdout = None
    if control:
        holdout = "global_holdout" if r.enrolment_id in global_ids else "held_out"
    found = events.get(r.customer_id)
    after, revenue, replies = (
        found.in_window(r.resolved_at, report.window) if found else (None, 0.0, 0)
    )
    return Unit(
        customer_id=r.customer_id,
        enrolment_id=r.enrolment_id,
        cadence=r.cadence,
        step=r.step,
        arm="control" if control else "treatment",
        holdout=holdout,
        start=r.resolved_at,
        message=state,
        variant=variant,
        responded_after=after,
        revenue=revenue,
        replies=replies,
    )


def _resolutions(db: Database, scope: Scope) -> list[_Resolution]:
    s = StepResolution
    query = scope.select(
        select(s.enrolment_id, s.customer_id, s.cadence, s.step, s.arm, s.outcome, s.resolved_at),
        s.cadence,
        s.resolved_at,
    )
    with db.read() as session:
        return [_Resolution(*row) for row in session.execute(query.order_by(s.id))]


def _messages(db: Database, scope: Scope) -> dict[tuple[int, str], tuple[ContactState, str]]:
    """(enrolment, step) → (state, variant) of its message."""
    c = Contact
    query = select(c.enrolment_id, c.step, c.state, c.variant).where(c.enrolment_id.is_not(None))
    if scope.cadence is not None:
        query = query.where(c.cadence == scope.cadence)
    with db.read() as session:
        return {
            (e, step): (ContactState(state), variant)
            for e, step, state, variant in session.execute(query)
            if e is not None
        }


@dataclass
class _CustomerEvents:
    """One customer's response and reply events, by time, for window lookups."""

    times: list[datetime]
    values: list[float]
    reply_times: list[datetime]

    def in_window(self, start: datetime, window: timedelta) -> tuple[timedelta | None, float, int]:
        """(first response after start, value of responses, replies) in (start, start+window]."""
        end = start + window
        lo, hi = bisect.bisect_right(self.times, start), bisect.bisect_right(self.times, end)
        first = self.times[lo] - start if lo < hi else None
        revenue = sum(self.values[lo:hi])
        replies = bisect.bisect_right(self.reply_times, end) - bisect.bisect_right(
            self.reply_times, start
        )
        return first, revenue, replies


def _response_events(
    db: Database, resolutions: Sequence[_Resolution], scope: Scope, report: Report
) -> dict[int, _CustomerEvents]:
    if not resolutions:
        return {}
    customers = {r.customer_id for r in resolutions}
    earliest = min(r.resolved_at for r in resolutions)
    latest = min(max(r.resolved_at for r in resolutions) + report.window, scope.as_of)
    e = Event
    query = (
        select(e.customer_id, e.type, e.occurred_at, e.properties)
        .where(
            e.type.in_([*report.responses, REPLY]),
            e.occurred_at > earliest,
            e.occurred_at <= latest,
        )
        .order_by(e.customer_id, e.occurred_at, e.id)
    )
    found: dict[int, _CustomerEvents] = defaultdict(lambda: _CustomerEvents([], [], []))
    responses = set(report.responses)
    with db.read() as session:
        for customer_id, type_, occurred_at, properties in session.execute(query):
            if customer_id not in customers:
                continue
            events = found[customer_id]
            if type_ in responses:
                events.times.append(occurred_at)
                events.values.append(_value(properties, report.value_property))
            if type_ == REPLY:
                events.reply_times.append(occurred_at)
    return dict(found)


def _value(properties: Any, name: str) -> float:
    """A response's value; absent or not a number counts 0 (a purchase without amount)."""
    value = properties.get(name) if isinstance(properties, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)


def weekly_messages(db: Database, scope: Scope) -> dict[str, dict[datetime, int]]:
    """Messages per cadence per week (weeks begin Monday 00:00 UTC), by when they were
    planned, in every state that counts for caps: sent, queued or unknown."""
    c = Contact
    counting = [s.value for s in ContactState if s.counts_for_caps]
    query = scope.select(
        select(c.cadence, c.planned_at).where(c.state.in_(counting)), c.cadence, c.planned_at
    )
    weeks: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    with db.read() as session:
        for cadence, planned_at in session.execute(query):
            monday = (planned_at - timedelta(days=planned_at.weekday())).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            weeks[cadence][monday] += 1
    return {cadence: dict(by_week) for cadence, by_week in weeks.items()}


def known_cadences(db: Database) -> list[str]:
    """Cadences with at least one resolved step in the ledger."""
    with db.read() as session:
        return list(
            session.scalars(
                select(StepResolution.cadence).distinct().order_by(StepResolution.cadence)
            )
        )
