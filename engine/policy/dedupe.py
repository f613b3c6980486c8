"""One occurrence, one contact: a key seen twice in one call is sent at most once.

The ledger's unique idempotency key is the real guard (engine/policy/keys.py); this stage keeps
`decide()` itself honest, so a caller that hands over the same occurrence twice (two
evaluation paths building one step) gets one send and a recorded reason for the other.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.ledger.decisions import Reason
from engine.policy.candidates import Candidate, Verdict
from engine.policy.stage import Context, StageResult, drop


def drop_duplicate_keys(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    seen: set[str] = set()
    kept: list[Candidate] = []
    verdicts: list[Verdict] = []
    for candidate in candidates:
        if candidate.idempotency_key in seen:
            verdicts.append(
                drop(candidate, Reason.DUPLICATE_KEY, "the same occurrence is already here")
            )
        else:
            seen.add(candidate.idempotency_key)
            kept.append(candidate)
    return kept, verdicts
