"""The review queue's transitions: approve, edit, reject, mark-sent, expire.

Each one is a single writing transaction that reads the message, runs the checks of
engine.review.checks, and changes the state with one conditional UPDATE
(engine.ledger.states.transition: `… WHERE state = 'pending_review'`). Two reviewers
acting on one message: one wins, the other is told who did what first; nothing is
approved twice. A refused action raises ReviewRefused before anything is written, so it
changes nothing.

A step's resolution time is the evaluation that generated the message, whatever happens
in review: a plain reject leaves the enrolment alone, so its next step follows as if this
one were skipped (a rejected message never counts for caps); `reject --stop` also ends the
enrolment and withdraws its other queued messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.config import Cap, Settings
from engine.durations import format_duration
from engine.errors import RapportError
from engine.history.db import Database
from engine.history.models import Contact, Customer, Enrolment
from engine.ledger.states import Channel, ContactState, EnrolmentState, transition
from engine.policy.stage import utc_text
from engine.review.checks import (
    Refusal,
    expires_at,
    limits_refusal,
    recipient_refusal,
    text_refusal,
)
from engine.review.intent import post_id_of
from engine.review.items import ReviewItem, load_items

PENDING = ContactState.PENDING_REVIEW
STOPPED = "enrolment stopped by the reviewer"


class ReviewRefused(RapportError):
    """An action on one message that cannot stand; nothing was changed."""

    def __init__(self, contact_id: int, refusal: Refusal) -> None:
        self.contact_id, self.reason, self.detail = contact_id, refusal.reason, refusal.detail
        super().__init__(f"message {contact_id}: {refusal.detail}")


@dataclass(frozen=True)
class RuleFacts:
    """What the rule files say that review needs: cadence caps and the steps that allow
    other @handles. Empty when the rules do not load (stricter: no other handles)."""

    caps: Mapping[str, Cap] = field(default_factory=dict)
    allow_mentions: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def load(cls, settings: Settings) -> tuple[RuleFacts, str | None]:
        """The facts, and a warning when the rule files could not be read."""
        from engine.strategy.loader import load_strategy

        try:
            strategy = load_strategy(settings.rules_dir, templates_dir=settings.templates_dir)
        except RapportError as exc:
            first = str(exc).splitlines()[0] if str(exc) else "no rules"
            return cls(), f"rules not loaded ({first}): cadence caps are not checked"
        return cls(
            caps={c.name: c.cap for c in strategy.cadences if c.cap is not None},
            allow_mentions=frozenset(
                (c.name, s.name) for c in strategy.cadences for s in c.steps if s.allow_mentions
            ),
        ), None


@dataclass(frozen=True)
class Reviewer:
    """Who acts, with the settings and rules the checks need."""

    name: str
    settings: Settings
    rules: RuleFacts = field(default_factory=RuleFacts)


def expire_overdue(db: Database, *, expires: timedelta, now: datetime) -> list[int]:
    """Pending and approved review messages past `review.expires` become expired."""
    expired = []
    with db.write() as session:
        rows = session.scalars(
            select(Contact).where(
                Contact.channel == Channel.REVIEW.value,
                Contact.state.in_([PENDING.value, ContactState.APPROVED.value]),
            )
        ).all()
        for contact in rows:
            due = expires_at(contact, expires)
            if due is None or due > now:
                continue
            old = ContactState(contact.state)
            waiting = "reviewed" if old is PENDING else "posted"
            reason = f"expired: not {waiting} within review.expires {format_duration(expires)}"
            if transition(
                session,
                contact.id,
                channel=Channel.REVIEW,
                old=old,
                new=ContactState.EXPIRED,
                at=now,
                values={"reason": reason},
            ):
                expired.append(contact.id)
    return expired


def _pending(session: Session, contact_id: int) -> tuple[Contact, Customer]:
    """The message and its customer, or ReviewRefused saying why it is not reviewable."""
    found = session.execute(
        select(Contact, Customer)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Contact.id == contact_id)
    ).first()
    if found is None or found[0].channel != Channel.REVIEW.value:
        raise ReviewRefused(contact_id, Refusal("not_found", "no such message in the review queue"))
    contact, customer = found
    if contact.state != PENDING.value:
        raise ReviewRefused(contact_id, Refusal("not_pending", _not_pending(contact)))
    return contact, customer


def _not_pending(contact: Contact) -> str:
    state = ContactState(contact.state)
    said = f"it is {state}, no longer pending review"
    if contact.reviewed_by and state in (
        ContactState.APPROVED,
        ContactState.REJECTED,
        ContactState.SENT,
    ):
        when = utc_text(contact.reviewed_at or contact.updated_at)
        said += f" ({state} by {contact.reviewed_by} at {when})"
    elif contact.reason:
        said += f" ({contact.reason})"
    return said


def _move(
    session: Session,
    contact_id: int,
    *,
    old: ContactState,
    new: ContactState,
    now: datetime,
    values: Mapping[str, Any],
) -> None:
    """The conditional UPDATE; a lost race becomes the loser's clear message."""
    if transition(
        session, contact_id, channel=Channel.REVIEW, old=old, new=new, at=now, values=values
    ):
        return
    contact = session.get(Contact, contact_id, populate_existing=True)
    assert contact is not None
    raise ReviewRefused(
        contact_id, Refusal("lost_race", "someone acted first: " + _not_pending(contact))
    )


def _reviewed(reviewer: Reviewer, now: datetime) -> dict[str, Any]:
    """The audit columns every review action sets; the generated text is kept once."""
    return {
        "reviewed_by": reviewer.name,
        "reviewed_at": now,
        "generated_text": func.coalesce(Contact.generated_text, Contact.text),
    }


def _refuse_if(contact_id: int, *refusals: Refusal | None) -> None:
    for refusal in refusals:
        if refusal is not None:
            raise ReviewRefused(contact_id, refusal)


def _text_refusal(
    contact: Contact, customer: Customer, text: str, reviewer: Reviewer
) -> Refusal | None:
    allow = (contact.cadence, contact.step) in reviewer.rules.allow_mentions
    return text_refusal(text, handle=customer.handle or "", allow_mentions=allow)


def edit(
    db: Database, contact_id: int, *, text: str, reviewer: Reviewer, now: datetime
) -> ReviewItem:
    """Replace a pending message's text; it stays pending_review."""
    policy = reviewer.settings.policy
    with db.write() as session:
        contact, customer = _pending(session, contact_id)
        _refuse_if(
            contact_id,
            _text_refusal(contact, customer, text, reviewer),
            recipient_refusal(session, customer, policy=policy, now=now),
        )
        values = {**_reviewed(reviewer, now), "text": text}
        _move(session, contact_id, old=PENDING, new=PENDING, now=now, values=values)
        return _one(session, contact_id, PENDING, now)


def approve(
    db: Database, contact_id: int, *, reviewer: Reviewer, now: datetime, text: str | None = None
) -> ReviewItem:
    """Approve a pending message (with `text`, edited first): it waits to be posted."""
    settings = reviewer.settings
    with db.write() as session:
        contact, customer = _pending(session, contact_id)
        final = contact.text if text is None else text
        _refuse_if(
            contact_id,
            _text_refusal(contact, customer, final, reviewer),
            recipient_refusal(session, customer, policy=settings.policy, now=now),
            limits_refusal(
                session,
                contact,
                policy=settings.policy,
                cadence_cap=reviewer.rules.caps.get(contact.cadence),
                now=now,
            ),
        )
        values = {**_reviewed(reviewer, now), "text": final, "approved_text": final}
        _move(session, contact_id, old=PENDING, new=ContactState.APPROVED, now=now, values=values)
        return _one(session, contact_id, ContactState.APPROVED, now)


def reject(
    db: Database,
    contact_id: int,
    *,
    reviewer: Reviewer,
    now: datetime,
    reason: str | None = None,
    stop: bool = False,
) -> list[int]:
    """Reject a pending message; with `stop`, also end its enrolment and withdraw the
    enrolment's other queued messages (their ids are returned)."""
    with db.write() as session:
        contact, _ = _pending(session, contact_id)
        said = "rejected" + (f": {reason}" if reason else "") + (f" ({STOPPED})" if stop else "")
        values = {**_reviewed(reviewer, now), "reason": said}
        _move(session, contact_id, old=PENDING, new=ContactState.REJECTED, now=now, values=values)
        if not stop or contact.enrolment_id is None:
            return []
        return _stop_enrolment(session, contact.enrolment_id, now)


def _stop_enrolment(session: Session, enrolment_id: int, now: datetime) -> list[int]:
    session.execute(
        update(Enrolment)
        .where(
            Enrolment.id == enrolment_id,
            Enrolment.state.in_([s.value for s in EnrolmentState if s.ongoing]),
        )
        .values(state=EnrolmentState.EXITED.value, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    withdrawn = []
    queued = session.execute(
        select(Contact.id, Contact.state, Contact.channel).where(
            Contact.enrolment_id == enrolment_id,
            Contact.state.in_([s.value for s in ContactState if s.queued]),
        )
    ).all()
    for other_id, state, channel in queued:
        if transition(
            session,
            other_id,
            channel=channel,
            old=ContactState(state),
            new=ContactState.CANCELLED,
            at=now,
            values={"reason": f"cancelled: {STOPPED}"},
        ):
            withdrawn.append(other_id)
    return withdrawn


def mark_sent(db: Database, contact_id: int, *, url: str, reviewer: Reviewer, now: datetime) -> str:
    """Record the post a person made for an approved message; returns the post id."""
    post_id = post_id_of(url)
    with db.write() as session:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.channel != Channel.REVIEW.value:
            raise ReviewRefused(
                contact_id, Refusal("not_found", "no such message in the review queue")
            )
        if contact.state != ContactState.APPROVED.value:
            hint = "approve it first" if contact.state == PENDING.value else _not_pending(contact)
            raise ReviewRefused(
                contact_id,
                Refusal("not_approved", f"only an approved message can be marked sent ({hint})"),
            )
        values = {"sent_at": now, "remote_id": post_id, "post_url": url.strip()}
        _move(
            session,
            contact_id,
            old=ContactState.APPROVED,
            new=ContactState.SENT,
            now=now,
            values=values,
        )
    return post_id


def _one(session: Session, contact_id: int, state: ContactState, now: datetime) -> ReviewItem:
    session.expire_all()  # the UPDATE went around the identity map
    (item,) = load_items(session, states=(state,), ids=[contact_id], now=now)
    return item
