"""What a customer's own events say about contacting them, read before any decision.

"Stop" must be honoured at once (X's rules): an opt-out word in a reply or mention, or an
`opt_out` event, becomes a suppression in the same evaluation, before any step is
decided. The suppression row is keyed by its source event, so writing it is idempotent.

The same signals withdraw what is already queued (`withdrawals`): a message planned,
waiting for review or approved but not yet posted is cancelled when the customer opts
out, is suppressed, or complains after it was planned. This is judged at every
evaluation, so a suppression written by any other means is honoured at the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.evaluation.records import CustomerHistory, NewSuppression, Withdrawal
from engine.facts.model import SuppressionFacts
from engine.ledger.decisions import Reason
from engine.policy.opt_out import opt_out_signal

COMPLAINT_EVENT = "complaint"


def new_opt_outs(
    history: CustomerHistory, words: Sequence[str], now: datetime
) -> list[NewSuppression]:
    """Suppressions for opt-outs not yet recorded; also added to the history in memory."""
    found = []
    customer = history.customer
    for event in history.events:
        if event.id in history.suppression_sources:
            continue
        if opt_out_signal(event.type, event.properties, words) is None:
            continue
        found.append(
            NewSuppression(
                customer_id=customer.id,
                handle_key=customer.handle.lower() if customer.handle else None,
                reason=Reason.OPTED_OUT,
                created_at=now,
                until=None,
                source_event_id=event.id,
            )
        )
        history.suppression_sources.add(event.id)
        history.suppressions.append(SuppressionFacts(Reason.OPTED_OUT, None))
    return found


def last_complaint_at(history: CustomerHistory) -> datetime | None:
    times = [e.occurred_at for e in history.events if e.type == COMPLAINT_EVENT]
    return max(times) if times else None


def withdrawals(history: CustomerHistory, now: datetime) -> list[Withdrawal]:
    """The customer's queued messages to cancel now, and why; also dropped from the
    history in memory, so this very evaluation's caps no longer count them."""
    queued = [c for c in history.past_contacts if c.queued]
    if not queued:
        return []
    active = [s for s in history.suppressions if s.until is None or s.until > now]
    if active:
        opted_out = any(s.reason == Reason.OPTED_OUT for s in active)
        reason, up_to = (Reason.OPTED_OUT if opted_out else Reason.SUPPRESSED), now
    else:
        complained = last_complaint_at(history)
        if complained is None or all(c.planned_at > complained for c in queued):
            return []
        reason, up_to = Reason.COMPLAINT_BLOCK, complained
    history.past_contacts[:] = [
        c for c in history.past_contacts if not (c.queued and c.planned_at <= up_to)
    ]
    return [Withdrawal(history.customer.id, reason.value, planned_up_to=up_to, at=now)]
