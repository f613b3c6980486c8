"""Withdraw queued messages and end ongoing enrolments: an opt-out, complaint or
suppression arrived before they left, a cadence's file was removed, a customer asked to
be forgotten (the `cancelled` state of the outbox, engine/ledger/states.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from engine.history.models import Contact, Enrolment
from engine.ledger.states import QUEUED, ContactState, EnrolmentState, transition


def cancel_queued(
    session: Session, *where: ColumnElement[bool], now: datetime, reason: str
) -> list[int]:
    """Cancel every queued message matching `where`, in the caller's transaction; returns
    the ids cancelled (a row someone else moved meanwhile is left as it is)."""
    queued = session.execute(
        select(Contact.id, Contact.channel, Contact.state).where(
            *where, Contact.state.in_([s.value for s in QUEUED])
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


def withdraw_queued(session: Session, customer_id: int, *, now: datetime, reason: str) -> list[int]:
    """Cancel every queued message of the customer, in the caller's transaction."""
    return cancel_queued(session, Contact.customer_id == customer_id, now=now, reason=reason)


def end_ongoing(session: Session, *where: ColumnElement[bool], now: datetime) -> int:
    """End the ongoing enrolments matching `where`: active ones become exited; held-out ones
    stay held_out (the control group stays the control group) and get their end time."""
    ongoing = (*where, Enrolment.ended_at.is_(None))
    ended = 0
    for state, values in (
        (EnrolmentState.ACTIVE, {"state": EnrolmentState.EXITED.value, "ended_at": now}),
        (EnrolmentState.HELD_OUT, {"ended_at": now}),
    ):
        result: Any = session.execute(
            update(Enrolment).where(*ongoing, Enrolment.state == state.value).values(**values)
        )
        ended += int(result.rowcount or 0)
    return ended
