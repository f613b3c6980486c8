"""A review queue in a real SQLite file: customers, their events, enrolments and messages
waiting for review, placed relative to the real clock (the review commands act at now)."""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.history.db import Database
from engine.history.models import Contact, Customer, Enrolment, Event
from engine.ledger.states import ContactState, EnrolmentState

EVIL_NAME = "<script>alert(1)</script>"
HTML_POST = '<b>love</b> @acme <img src=x onerror="alert(2)"> & more'
POST_ID = "1790000000000000001"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Queue:
    """Helpers to add history and review messages; ids of what was added."""

    db: Database
    _ids: Any = field(default_factory=lambda: count(1))

    def customer(self, handle: str, name: str | None = None) -> int:
        with self.db.write() as session:
            row = Customer(
                external_id=f"c-{handle}",
                handle=handle,
                handle_key=handle.lower(),
                name=name if name is not None else handle.replace("_", " ").title(),
                timezone="UTC",
                kind="customer",
                consent_at=now() - timedelta(days=30),
            )
            session.add(row)
            session.flush()
            return row.id

    def event(self, customer_id: int, type_: str, ago: timedelta, **properties: Any) -> int:
        with self.db.write() as session:
            row = Event(
                customer_id=customer_id,
                type=type_,
                occurred_at=now() - ago,
                properties=properties,
                external_id=f"e{next(self._ids)}",
            )
            session.add(row)
            session.flush()
            return row.id

    def message(
        self,
        customer_id: int,
        text: str,
        *,
        cadence: str = "thanks",
        step: str = "thanks",
        ago: timedelta = timedelta(hours=1),
        trigger: int | None = None,
        state: ContactState = ContactState.PENDING_REVIEW,
        channel: str = "review",
    ) -> int:
        """A message generated `ago`, with its enrolment (entered a little before)."""
        at = now() - ago
        with self.db.write() as session:
            enrolment = Enrolment(
                customer_id=customer_id,
                cadence=cadence,
                entered_at=at - timedelta(minutes=5),
                trigger_event_id=trigger,
                step_reached=1,
                last_step=step,
                last_resolved_at=at,
                state=EnrolmentState.ACTIVE.value,
                rules_version="test",
            )
            session.add(enrolment)
            session.flush()
            key = hashlib.sha256(f"{customer_id}:{cadence}:{step}:{at}".encode()).hexdigest()
            row = Contact(
                customer_id=customer_id,
                enrolment_id=enrolment.id,
                cadence=cadence,
                step=step,
                idempotency_key=key,
                text=text,
                channel=channel,
                state=state.value,
                planned_at=at,
                updated_at=at,
            )
            session.add(row)
            session.flush()
            return row.id

    def contact(self, contact_id: int) -> Contact:
        with self.db.read() as session:
            row = session.get(Contact, contact_id)
            assert row is not None
            session.expunge(row)
            return row

    def enrolment_state(self, contact_id: int) -> str:
        with self.db.read() as session:
            contact = session.get(Contact, contact_id)
            assert contact is not None
            return session.scalars(
                select(Enrolment.state).where(Enrolment.id == contact.enrolment_id)
            ).one()


@dataclass(frozen=True)
class Standard:
    """The queue most tests start from: three customers, one message each."""

    jane: int  # a first purchase thank-you
    bob: int  # answers Bob's post (HTML in it, and a hostile name)
    ann: int  # a check-in, another cadence


def standard_queue(queue: Queue) -> Standard:
    jane = queue.customer("jane_doe", "Jane Doe")
    purchase = queue.event(jane, "purchase", timedelta(hours=3), amount=42)
    bob = queue.customer("bob", EVIL_NAME)
    post = queue.event(
        bob,
        "keyword",
        timedelta(hours=2),
        text=HTML_POST,
        post_id=POST_ID,
        url=f"https://x.com/bob/status/{POST_ID}",
    )
    ann = queue.customer("ann_lee", "Ann Lee")
    return Standard(
        jane=queue.message(jane, "@jane_doe thank you for your first order!", trigger=purchase),
        bob=queue.message(
            bob,
            "@bob glad you like it & thanks #coffee",
            cadence="prospects",
            step="hello",
            trigger=post,
        ),
        ann=queue.message(ann, "@ann_lee how is it going?", cadence="check-in", step="check"),
    )


def write_config(root: Path, text: str = "") -> Path:
    """config.yaml (and empty rules/, templates/) for a project in `root`."""
    (root / "rules").mkdir(exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    path = root / "config.yaml"
    path.write_text("timezone: UTC\n" + textwrap.dedent(text), encoding="utf-8")
    return path
