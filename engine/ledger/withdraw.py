"""Withdraw queued messages and end enrolments: an opt-out, complaint, suppression, removed
cadence or forgotten customer arrived before the messages left (the `cancelled` state of
the outbox, engine/ledger/states.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from engine.history.models import Contact, Enrolment
from engine.ledger.states import QUEUED, TRANSITIONS, EnrolmentState
from engine.ledger.states import ContactState as S


def cancel_queued(session: Session, *where: ColumnElement[bool], reason: str, at: datetime) -> int:
    """Cancel every queued message matching `where`, in the caller's transaction; returns
    how many.

    One conditional UPDATE per channel, over exactly the queued states from which that
    channel's table allows `cancelled`: a row in a state its channel does not know is
    left alone rather than forced along, and a row someone else moved meanwhile no longer
    matches.
    """
    withdrawn = 0
    for channel, moves in TRANSITIONS.items():
        states = [s.value for s in sorted(QUEUED) if S.CANCELLED in moves.get(s, frozenset())]
        statement = update(Contact).where(
            *where, Contact.channel == channel.value, Contact.state.in_(states)
        )
        result = session.execute(
            statement.values(
                state=S.CANCELLED.value, reason=reason, updated_at=at
            ).execution_options(synchronize_session=False)
        )
        withdrawn += getattr(result, "rowcount", 0) or 0
    return withdrawn


def withdraw_queued(
    session: Session,
    customer_id: int,
    *,
    reason: str,
    at: datetime,
    planned_up_to: datetime | None = None,
) -> int:
    """Cancel the customer's messages still waiting to leave; returns how many. An opt-out,
    a complaint or a suppression calls this in the transaction that records it, so no
    message slips out in between. `planned_up_to` keeps messages planned later (a
    complaint withdraws only what was queued before it)."""
    where = [Contact.customer_id == customer_id]
    if planned_up_to is not None:
        where.append(Contact.planned_at <= planned_up_to)
    return cancel_queued(session, *where, reason=reason, at=at)


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
