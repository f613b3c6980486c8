"""Consent: we only talk to people who linked their handle, or who we reach through a person.

`require_consent` protects known customers: without consent (or before it was given)
the candidate waits, since consent may come later. Prospects, found by search, never
agreed to anything, so they are never contacted automatically: only the review channel,
where a person decides, may reach them (DESIGN §2).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.ledger.decisions import Reason
from engine.ledger.states import Channel
from engine.policy.candidates import Candidate, Verdict
from engine.policy.stage import Context, StageResult, defer, drop, one_by_one, utc_text


def _verdict(candidate: Candidate, ctx: Context) -> Verdict | None:
    customer = candidate.customer
    if customer.kind == "prospect" and candidate.cadence.channel != Channel.REVIEW:
        return drop(
            candidate,
            Reason.PROSPECT_NEEDS_REVIEW,
            f"prospects are only contacted through review, not channel {candidate.cadence.channel}",
        )
    if ctx.policy.require_consent and customer.kind == "customer":
        if customer.consent_at is None:
            return defer(candidate, Reason.NO_CONSENT, "no consent on file")
        if customer.consent_at > ctx.now:
            detail = f"consent only from {utc_text(customer.consent_at)}"
            return defer(candidate, Reason.NO_CONSENT, detail, customer.consent_at)
    return None


def require_consent(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    return one_by_one(candidates, lambda candidate: _verdict(candidate, ctx))
