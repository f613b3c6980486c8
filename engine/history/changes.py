"""Which customers' history changed since a watermark: the wake-up for incremental runs.

Every event row carries `seq`, a counter that only grows. An import that adds an event
gives it the next `seq`; one that replaces an event (`rapport import events --update`)
gives the replaced row a new `seq` too, so a corrected amount or a moved event reaches
the incremental evaluation exactly like a new event: "evaluate the customers whose
events have a `seq` above the last one seen" covers both. A process keeps the highest
`seq` it has evaluated and asks for the customers changed since.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.history.models import Event


def customers_changed_since(session: Session, seq: int) -> set[int]:
    """Database ids of the customers with an event added or replaced after `seq`."""
    rows = session.execute(select(Event.customer_id).where(Event.seq > seq).distinct())
    return {customer for (customer,) in rows}


def last_seq(session: Session) -> int:
    """The watermark to keep after evaluating everyone: the highest `seq` so far."""
    return int(session.execute(select(func.max(Event.seq))).scalar() or 0)
