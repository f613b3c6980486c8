"""Contact and enrolment states as types, with the allowed contact transitions written once.

Every change of a contact's state goes through `ContactState.check` (or `transition`, which
also makes the change one conditional UPDATE): a reviewer, the delivery loop and an operator
can act on one row at the same moment, and only one of them may win.

The transitions, by channel (docs: the outbox):

- x:      planned → sending → sent | failed | unknown; sending → planned (retry after 429 or
          5xx); planned → expired | cancelled; unknown → sent | failed (reconciliation or
          an operator).
- review: pending_review → approved | rejected | expired | cancelled (an edit keeps
          pending_review); approved → sent (mark-sent or reconciliation) | expired | cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.errors import RapportError


class Channel(StrEnum):
    X = "x"  # automatic: only a reply to a post in which its author summoned the brand
    REVIEW = "review"  # assisted: a person approves and posts it


class ContactState(StrEnum):
    PLANNED = "planned"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @classmethod
    def first(cls, channel: Channel | str) -> ContactState:
        """The state a freshly planned message starts in on `channel`."""
        return cls.PLANNED if Channel(channel) is Channel.X else cls.PENDING_REVIEW

    @property
    def counts_for_caps(self) -> bool:
        """Caps and min_gap count every message except those that can never be seen."""
        return self not in NOT_COUNTING

    @property
    def queued(self) -> bool:
        """Still waiting to leave: an opt-out, complaint or suppression withdraws it."""
        return self in QUEUED

    @property
    def final(self) -> bool:
        return not TRANSITIONS[Channel.X].get(self) and not TRANSITIONS[Channel.REVIEW].get(self)

    def check(self, new: ContactState, *, channel: Channel | str) -> None:
        """Raise IllegalTransition unless `channel` allows self → new."""
        if new not in TRANSITIONS[Channel(channel)].get(self, frozenset()):
            raise IllegalTransition(channel=Channel(channel), old=self, new=new)


S = ContactState
TRANSITIONS: Mapping[Channel, Mapping[ContactState, frozenset[ContactState]]] = {
    Channel.X: {
        S.PLANNED: frozenset({S.SENDING, S.EXPIRED, S.CANCELLED}),
        S.SENDING: frozenset({S.SENT, S.FAILED, S.UNKNOWN, S.PLANNED}),
        S.UNKNOWN: frozenset({S.SENT, S.FAILED}),
    },
    Channel.REVIEW: {
        S.PENDING_REVIEW: frozenset(
            {S.PENDING_REVIEW, S.APPROVED, S.REJECTED, S.EXPIRED, S.CANCELLED}
        ),
        S.APPROVED: frozenset({S.SENT, S.EXPIRED, S.CANCELLED}),
    },
}
NOT_COUNTING = frozenset({S.REJECTED, S.FAILED, S.EXPIRED, S.CANCELLED})
QUEUED = frozenset({S.PLANNED, S.PENDING_REVIEW, S.APPROVED})


class EnrolmentState(StrEnum):
    ACTIVE = "active"
    HELD_OUT = "held_out"  # the control group: steps resolve as if sent, no message
    FINISHED = "finished"
    EXITED = "exited"

    @property
    def ongoing(self) -> bool:
        return self in (EnrolmentState.ACTIVE, EnrolmentState.HELD_OUT)


class IllegalTransition(RapportError):
    """A state change the channel's outbox does not allow (a bug, or a lost race)."""

    def __init__(self, *, channel: Channel, old: ContactState, new: ContactState) -> None:
        self.channel, self.old, self.new = channel, old, new
        allowed = sorted(str(s) for s in TRANSITIONS[channel].get(old, frozenset()))
        super().__init__(
            f"a {channel} message cannot go from {old} to {new}",
            hint=f"from {old} it can go to {', '.join(allowed) or 'nothing: it is final'}",
        )


def transition(
    session: Session,
    contact_id: int,
    *,
    channel: Channel | str,
    old: ContactState | frozenset[ContactState],
    new: ContactState,
    at: datetime,
    values: Mapping[str, Any] | None = None,
) -> bool:
    """Move one contact from `old` (one state or any of a set) to `new` in one conditional
    UPDATE. Returns False when the row was no longer in `old` (someone else acted first);
    the caller says so to its user. Illegal transitions raise before touching the row."""
    from engine.history.models import Contact  # here: models import this module

    olds = frozenset({old}) if isinstance(old, ContactState) else old
    for state in olds:
        state.check(new, channel=channel)
    result = session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.state.in_([s.value for s in olds]))
        .values(state=new.value, updated_at=at, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


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
    from engine.history.models import Contact  # here: models import this module

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
