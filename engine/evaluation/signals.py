"""What a customer's own events say about contacting them, read before any decision.

"Stop" must be honoured at once (X's rules): an opt-out word in a reply or mention, or an
`opt_out` event, becomes a suppression in the same evaluation, before any step is
decided. The suppression row is keyed by its source event, so writing it is idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.evaluation.records import CustomerHistory, NewSuppression
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
