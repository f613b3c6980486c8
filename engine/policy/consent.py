"""Consent: we only talk to people who linked their handle, who summoned the brand, or who
we reach through a person (docs/x.md, the two ways out).

`require_consent` protects known customers: without consent (or before it was given) a
proactive message waits, since consent may come later. A reply to a post in which such a
customer summoned the brand goes to review instead of waiting: the customer asked, but an
automatic reply would use data they did not agree to link, so a person decides
(`delivery_channel`; the evaluation plans the message on that channel).

Prospects never agreed to anything, but one who @mentions, quotes or replies to the brand
engaged first: channel x may answer that post (the X gates check that the reply is to the
summoning post). Proactive contact with prospects goes through review.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.config import Policy
from engine.ledger.decisions import Reason
from engine.ledger.states import Channel
from engine.policy.candidates import Candidate, Verdict
from engine.policy.stage import Context, StageResult, defer, one_by_one, utc_text


def _without_consent(candidate: Candidate, policy: Policy, now: datetime) -> bool:
    customer = candidate.customer
    if not policy.require_consent or customer.kind != "customer":
        return False
    return customer.consent_at is None or customer.consent_at > now


def delivery_channel(candidate: Candidate, policy: Policy, now: datetime) -> Channel:
    """Where a message that may be sent goes: its cadence's channel, except a summons
    reply to a known customer without consent, which a person reviews."""
    channel = Channel(candidate.cadence.channel)
    if channel is Channel.X and _without_consent(candidate, policy, now):
        return Channel.REVIEW
    return channel


def _verdict(candidate: Candidate, ctx: Context) -> Verdict | None:
    customer = candidate.customer
    if delivery_channel(candidate, ctx.policy, ctx.now) != candidate.cadence.channel:
        return None  # answered through review (see the module's docstring)
    if ctx.policy.require_consent and customer.kind == "customer":
        if customer.consent_at is None:
            return defer(candidate, Reason.NO_CONSENT, "no consent on file")
        if customer.consent_at > ctx.now:
            detail = f"consent only from {utc_text(customer.consent_at)}"
            return defer(candidate, Reason.NO_CONSENT, detail, customer.consent_at)
    return None


def require_consent(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    return one_by_one(candidates, lambda candidate: _verdict(candidate, ctx))
