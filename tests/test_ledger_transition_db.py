"""`transition()` against a real database: the conditional UPDATE lets exactly one of two
concurrent writers move a contact, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.history.db import Database
from engine.history.models import Contact, Customer
from engine.ledger.states import Channel, ContactState, transition

pytestmark = pytest.mark.backends

S = ContactState
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def planned_contact(db: Database) -> int:
    with db.write() as session:
        customer = Customer(external_id="c1", attributes={})
        session.add(customer)
        session.flush()
        contact = Contact(
            customer_id=customer.id,
            cadence="welcome",
            step="hello",
            idempotency_key="k1",
            text="@c1 hello",
            channel=Channel.X.value,
            state=S.PLANNED.value,
            planned_at=NOW,
            updated_at=NOW,
        )
        session.add(contact)
        session.flush()
        return contact.id


def state(db: Database, contact_id: int) -> str:
    with db.read() as session:
        return str(session.scalar(select(Contact.state).where(Contact.id == contact_id)))


def test_a_transition_moves_the_row_once(db: Database) -> None:
    contact = planned_contact(db)
    for expected in (True, False):
        with db.write() as session:
            moved = transition(
                session, contact, channel=Channel.X, old=S.PLANNED, new=S.SENDING, at=NOW
            )
        assert moved is expected
    assert state(db, contact) == "sending"


def test_of_two_concurrent_senders_exactly_one_claims_the_contact(db: Database) -> None:
    contact = planned_contact(db)
    both_inside = threading.Barrier(2)

    def claim() -> bool:
        with db.write() as session:
            # On SQLite the second writer waits at BEGIN IMMEDIATE, so only PostgreSQL
            # meets at the barrier; there both UPDATEs race for the same row.
            if not db.is_sqlite:
                both_inside.wait(timeout=30)
            return transition(
                session, contact, channel=Channel.X, old=S.PLANNED, new=S.SENDING, at=NOW
            )

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(lambda _: claim(), range(2)))
    assert results == [False, True]
    assert state(db, contact) == "sending"
