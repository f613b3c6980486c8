"""What the contact policy sees (candidates and the customer's state) and what it says.

The policy is pure code with no database: the evaluation reads the customer, the ledger
and the suppressions once (the read model, engine/facts/), hands them over as these
objects, and writes the verdicts back. That keeps every policy rule testable with a few
constructors and makes `decide()` the same function for run, preview and simulate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from engine.facts.model import CustomerFacts, EventFacts, PastContact, SuppressionFacts
from engine.ledger.decisions import Reason

if TYPE_CHECKING:
    from engine.strategy.model import Cadence, Step

Outcome = Literal["send", "defer", "drop"]


@dataclass(frozen=True)
class Candidate:
    """One due step of one enrolment that the evaluation would like to send."""

    customer: CustomerFacts
    cadence: Cadence
    step: Step
    step_index: int  # 0-based
    enrolment_id: int | None  # None while the enrolment is new in this evaluation
    enrolment_start: datetime
    due: datetime
    trigger_event: EventFacts | None
    variant: str  # "" without A/B
    template: str
    idempotency_key: str  # engine.policy.keys.idempotency_key(...)
    in_reply_to: str | None  # channel x: the post id of the summoning post


@dataclass(frozen=True)
class CustomerPolicyState:
    past_contacts: tuple[PastContact, ...]  # ledger rows not in (rejected, failed, expired)
    suppressions: tuple[SuppressionFacts, ...]
    last_complaint_at: datetime | None


@dataclass(frozen=True)
class Verdict:
    """Why a candidate is sent, waits or is dropped: every candidate gets exactly one.

    `retry_at` is a hint for the scheduler (incremental ticks evaluate only customers that need
    it): the earliest time a deferred candidate is worth evaluating again (end of quiet
    hours, a cap window freeing up). None means no better guess than the next event.
    The policy checks everything again at that time; the hint never lets anything through.
    """

    candidate: Candidate
    outcome: Outcome
    reason: Reason
    detail: str = ""  # human text: "quiet hours until 09:00 Asia/Kathmandu (2026-06-16T03:15:00Z)"
    retry_at: datetime | None = None
