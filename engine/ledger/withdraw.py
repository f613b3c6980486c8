"""Withdraw a customer's queued messages: an opt-out, complaint or suppression arrived
before they left (the `cancelled` state of the outbox, engine/ledger/states.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.history.models import Contact
from engine.ledger.states import QUEUED, ContactState, transition


def withdraw_queued(session: Session, customer_id: int, *, now: datetime, reason: str) -> list[int]:
    """Cancel every queued message of the customer, in the caller's transaction."""
    queued = session.execute(
        select(Contact.id, Contact.channel, Contact.state).where(
            Contact.customer_id == customer_id, Contact.state.in_([s.value for s in QUEUED])
        )
    ).all()
    return [
        contact_id
        for contact_id, channel, state in queued
        if transition(
            session,
            contact_id,
            channel=channel,
            old=ContactState(state),
            new=ContactState.CANCELLED,
            at=now,
            values={"reason": reason},
        )
    ]
