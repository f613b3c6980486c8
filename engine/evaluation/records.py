"""What one evaluation reads and what it changes, as plain objects.

The pipeline reads a batch of customers into `CustomerHistory` objects, advances their
enrolments in memory, and hands a `Changes` object to a sink. Nothing here touches SQL:
the same objects feed the database sink (run) and the recording sink (preview).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.clock import utc_text
from engine.facts.model import CustomerFacts, EventFacts, PastContact, SuppressionFacts
from engine.ledger.decisions import DecisionOutcome, Reason
from engine.ledger.states import Channel, ContactState, EnrolmentState


@dataclass(eq=False)
class EnrolmentRecord:
    """One enrolment, mutable while an evaluation advances it (id None until written)."""

    id: int | None
    customer_id: int
    cadence: str
    entered_at: datetime
    trigger_event_id: int | None
    step_reached: int  # position after the last resolved step, in the cadence of then
    last_resolved_at: datetime | None
    state: EnrolmentState
    ended_at: datetime | None
    rules_version: str
    last_step: str | None = None  # name of the last resolved step; None before any
    changed: bool = False
    # (step, when, outcome) resolved by this evaluation, for the ledger's step_resolutions
    # (measurement starts response windows there, held-out steps included).
    resolutions: list[tuple[str, datetime, str]] = field(default_factory=list)

    @property
    def ongoing(self) -> bool:
        return self.state.ongoing and self.ended_at is None

    def active_at(self, moment: datetime) -> bool:
        """Did this enrolment occupy its cadence at `moment` (one at a time per cadence)?"""
        if self.entered_at > moment:
            return False
        return self.ended_at is None or self.ended_at > moment

    def next_step_index(self, step_names: Sequence[str]) -> int:
        """Where to resume in the cadence as it is now, after rule edits.

        By name: after the last resolved step, wherever it moved. When that step was
        removed, its successor took its old position (`step_reached` - 1), so resume
        there rather than skip a step never sent. Rows from before names were kept
        (`last_step` None) have only the index.
        """
        if self.last_step is None:
            return self.step_reached
        if self.last_step in step_names:
            return step_names.index(self.last_step) + 1
        return max(self.step_reached - 1, 0)

    def next_due(self, after: timedelta) -> datetime:
        """The first step is due `after` the enrolment began, later ones `after`
        the previous step resolved. Keyed on what resolved, not on the index, which a rule
        edit may have moved."""
        return (self.last_resolved_at or self.entered_at) + after

    def resolve_step(self, now: datetime, index: int, name: str, *, outcome: str) -> None:
        self.resolutions.append((name, now, outcome))
        self.step_reached = index + 1
        self.last_step = name
        self.last_resolved_at = now
        self.changed = True

    def end(self, state: EnrolmentState, now: datetime) -> None:
        # A held-out enrolment stays held_out whatever ends it: it is the control group.
        if self.state is not EnrolmentState.HELD_OUT:
            self.state = state
        self.ended_at = now
        self.changed = True


@dataclass
class CustomerHistory:
    """Everything one evaluation needs about one customer, as of `now`."""

    customer: CustomerFacts
    name: str | None  # for templates; the policy does not need it
    events: list[EventFacts]  # occurred_at <= now, ordered by (occurred_at, id)
    enrolments: list[EnrolmentRecord]  # ordered by (entered_at, id)
    past_contacts: list[PastContact]  # ledger rows that count for caps
    contact_keys: set[str]  # every idempotency key already in the ledger
    suppressions: list[SuppressionFacts]
    suppression_sources: set[int]  # event ids that already made a suppression

    def enrolments_of(self, cadence: str) -> list[EnrolmentRecord]:
        return [e for e in self.enrolments if e.cadence == cadence]


@dataclass(frozen=True)
class PlannedContact:
    """A ledger row to insert; `enrolment` gives its id once the enrolment is written."""

    customer_id: int
    enrolment: EnrolmentRecord
    cadence: str
    step: str
    variant: str
    idempotency_key: str
    text: str
    channel: Channel
    state: ContactState  # ContactState.first(channel)
    in_reply_to: str | None
    planned_at: datetime
    # For previews only (not stored): who, which template, how long.
    handle: str | None = None
    customer_external_id: str = ""
    template: str = ""
    weighted_length: int = 0


@dataclass(frozen=True)
class DecisionRecord:
    """Why a candidate was or was not sent; one per step outcome per run."""

    customer_id: int
    cadence: str
    step: str | None
    outcome: DecisionOutcome
    reason: Reason
    detail: str
    decided_at: datetime
    # For previews only (not stored).
    customer_external_id: str = ""
    handle: str | None = None
    variant: str = ""
    channel: str = ""
    text: str = ""
    weighted_length: int | None = None


@dataclass(frozen=True)
class ResolvedStep:
    """A step_resolutions row: when a step resolved, for treatment and control alike."""

    enrolment: EnrolmentRecord  # gives its id once the enrolment is written
    step: str
    arm: str  # treatment | control
    outcome: str  # planned | dropped | expired | skipped | held_out | global_holdout
    resolved_at: datetime


@dataclass(frozen=True)
class NewSuppression:
    customer_id: int
    handle_key: str | None
    reason: str
    created_at: datetime
    until: datetime | None
    source_event_id: int | None


@dataclass(frozen=True)
class Withdrawal:
    """Cancel one customer's queued messages planned up to `planned_up_to` (the sink does,
    with engine.ledger.withdraw.withdraw_queued, in the batch's transaction)."""

    customer_id: int
    reason: str
    planned_up_to: datetime
    at: datetime


@dataclass
class Changes:
    """Everything one batch changes; a sink applies it in one transaction (or records it)."""

    new_enrolments: list[EnrolmentRecord] = field(default_factory=list)
    enrolment_updates: list[EnrolmentRecord] = field(default_factory=list)
    contacts: list[PlannedContact] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    suppressions: list[NewSuppression] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    launches: dict[str, datetime] = field(default_factory=dict)
    resolutions: list[ResolvedStep] = field(default_factory=list)

    def extend(self, other: Changes) -> None:
        self.new_enrolments += other.new_enrolments
        self.enrolment_updates += other.enrolment_updates
        self.contacts += other.contacts
        self.decisions += other.decisions
        self.suppressions += other.suppressions
        self.withdrawals += other.withdrawals
        self.launches.update(other.launches)
        self.resolutions += other.resolutions


def json_safe(value: Any) -> Any:
    """Datetimes as people read them (engine.clock.utc_text), for JSON and runs.counts."""
    if isinstance(value, datetime):
        return utc_text(value)
    return value
