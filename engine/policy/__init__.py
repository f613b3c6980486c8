"""The contact policy: which due steps may be sent now, and why the others may not.

A pipeline of small stages (after Alertmanager's notify path). Each stage
keeps some candidates and records a verdict with a reason for every one it drops or
defers; whatever survives every stage is sent. The order is the one docs/policy.md shows:

    duplicate keys ▶ suppression ▶ complaint block ▶ consent ▶ X gates ▶ holdout
    ▶ quiet hours ▶ caps, min_gap and arbitration by priority

Pure code: no database, no clock. The caller passes `now` and the customer's ledger, so
run, preview and simulate share this one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.clock import as_utc
from engine.config import Policy
from engine.ledger.decisions import Reason
from engine.policy.candidates import Candidate, CustomerPolicyState, Verdict
from engine.policy.caps import arbitrate
from engine.policy.consent import require_consent
from engine.policy.dedupe import drop_duplicate_keys
from engine.policy.holdout import GLOBAL_SCOPE, drop_held_out, in_holdout
from engine.policy.keys import idempotency_key
from engine.policy.opt_out import opt_out_in_event, opt_out_word_in
from engine.policy.quiet_hours import defer_in_quiet_hours, is_quiet, quiet_until
from engine.policy.stage import Context, Stage, arbitration_order
from engine.policy.suppression import block_after_complaint, drop_suppressed
from engine.policy.x_gates import x_gates

__all__ = [
    "GLOBAL_SCOPE",
    "STAGES",
    "Candidate",
    "CustomerPolicyState",
    "Verdict",
    "decide",
    "idempotency_key",
    "in_holdout",
    "is_quiet",
    "opt_out_in_event",
    "opt_out_word_in",
    "quiet_until",
]

STAGES: tuple[Stage, ...] = (
    drop_duplicate_keys,
    drop_suppressed,
    block_after_complaint,
    require_consent,
    x_gates,
    drop_held_out,
    defer_in_quiet_hours,
    arbitrate,
)


def decide(
    candidates: Sequence[Candidate],
    state: CustomerPolicyState,
    now: datetime,
    policy: Policy,
) -> list[Verdict]:
    """One verdict per candidate of ONE customer, in arbitration order (priority desc,
    then cadence name). Survivors of every stage are sent ("sent_to_outbox").

    Each verdict holds the very candidate object it was given (callers match by identity).
    """
    ordered = sorted(candidates, key=arbitration_order)
    ctx = Context(state, as_utc(now), policy)
    verdicts: list[Verdict] = []
    kept: Sequence[Candidate] = ordered
    for stage in STAGES:
        if not kept:
            break
        kept, decided = stage(kept, ctx)
        verdicts.extend(decided)
    verdicts.extend(Verdict(c, "send", Reason.SENT_TO_OUTBOX) for c in kept)
    # Stable sort: equal keys only for duplicates, which keep the order they were decided in.
    verdicts.sort(key=lambda v: arbitration_order(v.candidate))
    return verdicts
