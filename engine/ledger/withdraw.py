"""Withdraw a customer's queued messages: an opt-out, complaint or suppression arrived
before they left (the `cancelled` state of the outbox, engine/ledger/states.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.history.models import Contact
from engine.ledger.states import QUEUED, TRANSITIONS
from engine.ledger.states import ContactState as S


def withdraw_queued(
    session: Session,
    customer_id: int,
    *,
    reason: str,
    at: datetime,
    planned_up_to: datetime | None = None,
) -> int:
    """Cancel the customer's messages still waiting to leave (`queued`), in the caller's
    transaction; returns how many. An opt-out, a complaint or a suppression calls this
    in the transaction that records it, so no message slips out in between.

    One conditional UPDATE per channel, over exactly the queued states from which that
    channel's table allows `cancelled`: a row in a state its channel does not know is
    left alone rather than forced along. `planned_up_to` keeps messages planned later
    (a complaint withdraws only what was queued before it).
    """
    withdrawn = 0
    for channel, moves in TRANSITIONS.items():
        states = [s.value for s in sorted(QUEUED) if S.CANCELLED in moves.get(s, frozenset())]
        statement = update(Contact).where(
            Contact.customer_id == customer_id,
            Contact.channel == channel.value,
            Contact.state.in_(states),
        )
        if planned_up_to is not None:
            statement = statement.where(Contact.planned_at <= planned_up_to)
        result = session.execute(
            statement.values(
                state=S.CANCELLED.value, reason=reason, updated_at=at
            ).execution_options(synchronize_session=False)
        )
        withdrawn += getattr(result, "rowcount", 0) or 0
    return withdrawn
