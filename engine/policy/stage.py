"""The shape every policy stage shares (after Alertmanager's notify path).

A stage takes the candidates still standing and returns the ones it keeps plus one
verdict for each one it drops or defers. Stages never send: whatever survives the last
stage is sent by `decide()`. Keeping the shape identical makes the order of stages a
plain list that a reader can check against docs/policy.md (the stages, in order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.clock import utc_text as clock_utc_text
from engine.config import Policy
from engine.ledger.decisions import Reason
from engine.policy.candidates import Candidate, CustomerPolicyState, Verdict


@dataclass(frozen=True)
class Context:
    """Everything a stage may look at besides the candidates: one customer, one instant."""

    state: CustomerPolicyState
    now: datetime  # aware UTC
    policy: Policy


StageResult = tuple[list[Candidate], list[Verdict]]
Stage = Callable[[Sequence[Candidate], Context], StageResult]


def one_by_one(
    candidates: Sequence[Candidate], verdict_of: Callable[[Candidate], Verdict | None]
) -> StageResult:
    """A stage that judges each candidate on its own: keep those `verdict_of` lets pass
    (None), and its verdict for every other."""
    kept: list[Candidate] = []
    verdicts: list[Verdict] = []
    for candidate in candidates:
        verdict = verdict_of(candidate)
        if verdict is None:
            kept.append(candidate)
        else:
            verdicts.append(verdict)
    return kept, verdicts


def drop(candidate: Candidate, reason: Reason, detail: str = "") -> Verdict:
    return Verdict(candidate, "drop", reason, detail)


def defer(
    candidate: Candidate, reason: Reason, detail: str = "", retry_at: datetime | None = None
) -> Verdict:
    return Verdict(candidate, "defer", reason, detail, retry_at)


def utc_text(moment: datetime) -> str:
    """Times in details are read next to every other time Rapport shows: one spelling."""
    return clock_utc_text(moment)


def arbitration_order(candidate: Candidate) -> tuple[int, str, int, str]:
    """docs/policy.md: priority (higher first), then cadence name; the rest for determinism."""
    return (
        -candidate.cadence.priority,
        candidate.cadence.name,
        candidate.step_index,
        candidate.idempotency_key,
    )
