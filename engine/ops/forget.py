"""Forgetting a customer, and removing the text of posts deleted on X.

`rapport forget CUSTOMER` erases in one transaction everything that says who the customer
is or what was said to or by them, and keeps the anonymous rows that caps, reentry and
measurement count (an opaque id, types, times, states):

- customers: erased external id (becomes `forgotten:<row id>`), handle, name, time zone,
  consent source, attributes; kept kind, consent time, created/updated;
- events: erased properties (text, url, post and author ids, amounts…) and external id
  (becomes `forgotten:<row id>`); kept type, time, source;
- contacts: erased text, the post replied to, the posted reply's id, reason; kept cadence,
  step, variant, channel, state, times;
- decisions: erased detail; kept cadence, step, outcome, reason, time;
- suppressions: erased the handle; kept the suppression, by row id.

Queued messages are cancelled (`forgotten`), ongoing enrolments end, and a permanent
suppression keeps the row from being planned for again. With no handle and no X user id
left, a later post from the same account is a stranger's: ingestion makes a new prospect,
with no link to the old record. (A later import with the same external id likewise
creates a new customer: the old id is gone.)

Every table that stores personal text must be listed in `_erase`; a table added later
(the review queue's approved text and reviewer, for instance) adds its columns there.

Deleted posts: X may report a post deleted, or an operator imports a list
(`rapport forget --posts FILE`). `record_deleted_posts` notes them; `purge_deleted_posts`
removes their stored text (the event's `text`, or our own reply's text) — the daemon
calls `purge_deleted_posts(db, now=now)` in its hourly housekeeping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, literal, select, update
from sqlalchemy.orm import Session

from engine.errors import RapportError
from engine.facts.loading import find_customer_ids
from engine.history.db import Database
from engine.history.models import (
    Contact,
    Customer,
    Decision,
    DeletedPost,
    Enrolment,
    Event,
    Suppression,
)
from engine.ledger.withdraw import end_ongoing, withdraw_queued

FORGOTTEN = "forgotten"
PREFIX = f"{FORGOTTEN}:"
X_SOURCE = "x"  # engine/x/ingest.py stores X posts as events of this source
EVALUATION_WAIT_SECONDS = 600  # a daemon's tick over a large base may take minutes


@dataclass(frozen=True)
class Forgotten:
    opaque_id: str
    events: int
    contacts: int
    cancelled: int


def find_customer(db: Database, key: str) -> int:
    """The row id of the customer with this external id or @handle, or a clear error."""
    if key.startswith(PREFIX):
        raise RapportError(f"customer {key!r} has already been forgotten")
    ids = find_customer_ids(db, key)
    if not ids:
        raise RapportError(
            f"no customer with id or handle {key!r}",
            hint="give the external id from your import, or @handle; forgotten ones are gone",
        )
    return ids[0]


def forget(db: Database, customer_id: int, *, now: datetime) -> Forgotten:
    """Erase one customer's personal data, keeping the anonymous counts (one transaction).

    Under the evaluation lock: an evaluation in flight read the customer before and would
    otherwise write a message with their name after we erased it."""
    with db.evaluation_lock(timeout=EVALUATION_WAIT_SECONDS), db.write() as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.external_id.startswith(PREFIX):
            raise RapportError(f"customer row {customer_id} does not exist or is forgotten")
        cancelled = withdraw_queued(session, customer_id, reason=FORGOTTEN, at=now)
        end_ongoing(session, Enrolment.customer_id == customer_id, now=now)
        handle_key = customer.handle_key
        events, contacts = _erase(session, customer, now=now)
        if handle_key is not None:  # a suppression by handle alone now names the row
            session.execute(
                update(Suppression)
                .where(Suppression.handle_key == handle_key)
                .values(handle_key=None, customer_id=customer_id)
            )
        session.add(Suppression(customer_id=customer_id, reason=FORGOTTEN, created_at=now))
        return Forgotten(f"{PREFIX}{customer_id}", events, contacts, cancelled)


def _erase(session: Session, customer: Customer, *, now: datetime) -> tuple[int, int]:
    """Every personal column of every table, for one customer."""
    customer.external_id = f"{PREFIX}{customer.id}"
    customer.handle = customer.handle_key = customer.name = None
    customer.timezone = customer.consent_source = None
    customer.attributes = {}
    customer.updated_at = now
    # `forgotten:<event row id>` stays unique per source, and says nothing about the post.
    events = session.execute(
        update(Event)
        .where(Event.customer_id == customer.id)
        .values(properties={}, external_id=literal(PREFIX) + cast(Event.id, String))
    )
    contacts = session.execute(
        update(Contact)
        .where(Contact.customer_id == customer.id)
        .values(text="", in_reply_to=None, remote_id=None, reason=None)
    )
    session.execute(update(Decision).where(Decision.customer_id == customer.id).values(detail=None))
    session.execute(
        update(Suppression).where(Suppression.customer_id == customer.id).values(handle_key=None)
    )
    return int(getattr(events, "rowcount", 0) or 0), int(getattr(contacts, "rowcount", 0) or 0)


# --- deleted posts ----------------------------------------------------------------------


def record_deleted_posts(
    db: Database, post_ids: Iterable[str], *, now: datetime, source: str
) -> int:
    """Note posts deleted on X (`source`: "x" when X reported it, "operator" for a list).
    Returns how many were new."""
    added = 0
    with db.write() as session:
        for post_id in dict.fromkeys(post_ids):
            if session.get(DeletedPost, post_id) is None:
                session.add(DeletedPost(post_id=post_id, reported_at=now, source=source))
                added += 1
    return added


def purge_deleted_posts(db: Database, *, now: datetime) -> int:
    """Remove the stored text of every deleted post not yet purged; returns how many rows
    lost their text. The daemon's hourly housekeeping calls it."""
    purged = 0
    with db.write() as session:
        waiting = list(
            session.scalars(select(DeletedPost.post_id).where(DeletedPost.purged_at.is_(None)))
        )
        for chunk in _chunks(waiting, 500):
            for event in session.scalars(
                select(Event).where(Event.source == X_SOURCE, Event.external_id.in_(chunk))
            ):
                if "text" in event.properties:
                    event.properties = {k: v for k, v in event.properties.items() if k != "text"}
                    purged += 1
            ours = session.execute(
                update(Contact).where(Contact.remote_id.in_(chunk)).values(text="")
            )
            purged += int(getattr(ours, "rowcount", 0) or 0)
            session.execute(
                update(DeletedPost).where(DeletedPost.post_id.in_(chunk)).values(purged_at=now)
            )
    return purged


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
