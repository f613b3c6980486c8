"""Builders for the X tests: a customer, an outbox row, settings pointing at a stand-in."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import select

from engine import clock
from engine.config import Brand, Policy, Settings, XChannel
from engine.history.db import Database
from engine.history.models import Contact, Customer
from engine.ledger.states import Channel, ContactState

_keys = itertools.count(1)


def settings_for(base_url: str, **x: object) -> Settings:
    return Settings(
        brand=Brand("acme", ("acme", "acme coffee"), ("globex",)),
        policy=Policy(opt_out_words=("stop", "unsubscribe", "opt out")),
        x=XChannel(base_url=base_url, **x),  # type: ignore[arg-type]
    )


def add_customer(db: Database, handle: str, *, kind: str = "customer") -> int:
    now = clock.now()
    with db.write() as session:
        row = Customer(
            external_id=f"c-{handle}",
            handle=handle,
            handle_key=handle.lower(),
            kind=kind,
            consent_at=now,
            attributes={},
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return row.id


def add_contact(
    db: Database,
    customer_id: int,
    text: str,
    *,
    in_reply_to: str | None = "111",
    channel: Channel = Channel.X,
    state: ContactState | None = None,
    cadence: str = "mention-reply",
    planned_at: datetime | None = None,
) -> int:
    with db.write() as session:
        row = Contact(
            customer_id=customer_id,
            cadence=cadence,
            step="reply",
            variant="",
            idempotency_key=f"key-{next(_keys)}",
            text=text,
            channel=channel.value,
            state=(state or ContactState.first(channel)).value,
            in_reply_to=in_reply_to,
            planned_at=planned_at or clock.now(),
            updated_at=planned_at or clock.now(),
            attempts=0,
        )
        session.add(row)
        session.flush()
        return row.id


def contact(db: Database, contact_id: int) -> Contact:
    with db.read() as session:
        found = session.scalar(select(Contact).where(Contact.id == contact_id))
        assert found is not None
        session.expunge(found)
        return found
