"""Holdouts: customers kept as a control group, never messaged, still measured.

Lift is only measurable if the control group is the same on every run and machine, so
membership is a hash of (salt, scope, customer) and never a random draw. The scope is
the cadence name for a cadence's holdout and "*" for the global holdout, which makes the
two draws independent. The evaluation uses `in_holdout` when it enrols (a held-out
enrolment resolves its steps as if sent); the stage here re-checks at send time so a
held-out customer can never be messaged, whoever built the candidate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from engine.config import Policy
from engine.ledger.decisions import Reason
from engine.policy.candidates import Candidate, Verdict
from engine.policy.stage import Context, StageResult, drop, one_by_one

GLOBAL_SCOPE = "*"
_TWO_64 = float(1 << 64)


# Small on purpose: one customer's cadences ask in a row, so a few thousand entries catch
# the repeats, while a cache the size of the customer base would make a full pass's memory
# grow with the base (a sha256 costs about a microsecond anyway).
@lru_cache(maxsize=4096)
def holdout_position(customer_external_id: str, scope: str, salt: str) -> float:
    """The customer's uniform position in [0, 1) for this scope."""
    digest = hashlib.sha256(f"{salt}:{scope}:{customer_external_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _TWO_64


def in_holdout(customer_external_id: str, scope: str, share: float, salt: str) -> bool:
    """True when the customer belongs to the control group of `scope` (share in [0, 1])."""
    if share <= 0.0:
        return False
    return holdout_position(customer_external_id, scope, salt) < share


def holdout_group(
    customer_external_id: str, cadence: str, cadence_share: float, policy: Policy
) -> Reason | None:
    """ "global_holdout" or "held_out" (the cadence's own), else None: one rule for both
    the enrolment and the send-time stage, so the two can never disagree."""
    salt = policy.holdout_salt
    if in_holdout(customer_external_id, GLOBAL_SCOPE, policy.global_holdout, salt):
        return Reason.GLOBAL_HOLDOUT
    if in_holdout(customer_external_id, cadence, cadence_share, salt):
        return Reason.HELD_OUT
    return None


def drop_held_out(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    def verdict_of(candidate: Candidate) -> Verdict | None:
        cadence = candidate.cadence
        group = holdout_group(
            candidate.customer.external_id, cadence.name, cadence.holdout, ctx.policy
        )
        if group is Reason.GLOBAL_HOLDOUT:
            return drop(candidate, group, "customer is in the global holdout")
        if group is Reason.HELD_OUT:
            return drop(candidate, group, f"customer is in the holdout of {cadence.name}")
        return None

    return one_by_one(candidates, verdict_of)
