"""Bulk reads for one batch of customers: one query per table, never one per customer.

Customer ids are streamed in key order (keyset pagination), so memory depends on the
batch size, not on the size of the customer base.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from engine.evaluation.records import CustomerHistory, EnrolmentRecord
from engine.facts.model import CustomerFacts, EventFacts, PastContact, SuppressionFacts
from engine.history.db import Database
from engine.history.models import (
    CadenceLaunch,
    Contact,
    Customer,
    Enrolment,
    Event,
    Suppression,
    sqlite_time,
)
from engine.ledger.states import NOT_COUNTING, ContactState, EnrolmentState
from engine.zones import UnknownTimeZone, zone

DEFAULT_BATCH_SIZE = 500


def customer_id_batches(
    db: Database, *, batch_size: int = DEFAULT_BATCH_SIZE, only: Sequence[int] | None = None
) -> Iterator[list[int]]:
    """Customer ids in ascending order, `batch_size` at a time (or just `only`)."""
    if only is not None:
        ids = sorted(set(only))
        for start in range(0, len(ids), batch_size):
            yield ids[start : start + batch_size]
        return
    last = 0
    while True:
        with db.read() as session:
            ids = list(
                session.scalars(
                    select(Customer.id)
                    .where(Customer.id > last)
                    .order_by(Customer.id)
                    .limit(batch_size)
                )
            )
        if not ids:
            return
        yield ids
        last = ids[-1]


def find_customer_ids(db: Database, key: str) -> list[int]:
    """The customer with this external id, else the one with this X handle.

    An id wins over a handle so that one key never names two customers (customer '42'
    and another whose handle is 42); a key written '@name' is always a handle.
    """
    with db.read() as session:
        if not key.startswith("@"):
            by_id = select(Customer.id).where(Customer.external_id == key)
            if found := list(session.scalars(by_id)):
                return found
        by_handle = select(Customer.id).where(Customer.handle_key == key.lstrip("@").lower())
        return list(session.scalars(by_handle))


def load_launches(db: Database) -> dict[str, datetime]:
    with db.read() as session:
        rows = session.execute(select(CadenceLaunch.cadence, CadenceLaunch.first_seen_at))
        return {cadence: first_seen for cadence, first_seen in rows}


def load_batch(
    db: Database, ids: Sequence[int], now: datetime, default_timezone: str
) -> list[CustomerHistory]:
    """Everything the evaluation needs about `ids`, as of `now`, in one read transaction."""
    with db.read() as session:
        customers, names = _customers(session, ids, default_timezone)
        events = _events(session, ids, now)
        enrolments = _enrolments(session, ids)
        contacts, keys = _contacts(session, ids)
        suppressions, sources = _suppressions(session, ids, customers)
    return [
        CustomerHistory(
            customer=customer,
            name=names.get(customer.id),
            events=events.get(customer.id, []),
            enrolments=enrolments.get(customer.id, []),
            past_contacts=contacts.get(customer.id, []),
            contact_keys=keys.get(customer.id, set()),
            suppressions=suppressions.get(customer.id, []),
            suppression_sources=sources.get(customer.id, set()),
        )
        for customer in customers
    ]


def _customers(
    session: Session, ids: Sequence[int], default_tz: str
) -> tuple[list[CustomerFacts], dict[int, str | None]]:
    c = Customer
    rows = session.execute(
        select(
            c.id, c.external_id, c.handle, c.name, c.timezone, c.kind, c.consent_at, c.attributes
        )
        .where(c.id.in_(ids))
        .order_by(c.id)
    ).all()
    names = {row.id: row.name for row in rows}
    return [
        CustomerFacts(
            id=row.id,
            external_id=row.external_id,
            handle=row.handle,
            timezone=known_zone(row.timezone, default_tz),
            kind=row.kind,
            consent_at=row.consent_at,
            attributes=as_mapping(row.attributes),
        )
        for row in rows
    ], names


def known_zone(name: str | None, default: str) -> str:
    """The customer's zone when zoneinfo knows it, else the default.

    A row written by hand, by another tool or under an older tzdata may name a zone this
    machine does not know; every later step (quiet hours, date triggers, templates) would
    fail on it, so it is checked once here (`zone` caches the answer, failures included).
    """
    if not name:
        return default
    try:
        zone(name)
    except UnknownTimeZone:
        return default
    return name


def as_mapping(value: Any) -> Mapping[str, Any]:
    """JSON columns should hold objects; anything else (a list, a string, null) reads as {}.

    Conditions and templates look names up in these; a non-object cannot answer, and
    keeping the raw value would only move the crash to them.
    """
    return value if isinstance(value, Mapping) else {}


def _events(session: Session, ids: Sequence[int], now: datetime) -> dict[int, list[EventFacts]]:
    if session.get_bind().dialect.name == "sqlite":
        return _events_sqlite(session, ids, now)
    e = Event
    rows = session.execute(
        select(e.customer_id, e.id, e.type, e.occurred_at, e.properties, e.external_id)
        .where(e.customer_id.in_(ids), e.occurred_at <= now)
        .order_by(e.customer_id, e.occurred_at, e.id)
    )
    events: dict[int, list[EventFacts]] = defaultdict(list)
    for row in rows:
        events[row.customer_id].append(
            EventFacts(
                row.id, row.type, row.occurred_at, as_mapping(row.properties), row.external_id
            )
        )
    return events


def _events_sqlite(
    session: Session, ids: Sequence[int], now: datetime
) -> dict[int, list[EventFacts]]:
    """The hot query (about ten rows per customer), read without SQLAlchemy's per-value
    type processing: SQLite keeps UTC times as fixed-width text ('YYYY-MM-DD HH:MM:SS.ffffff'),
    which compares correctly as text and parses fast with fromisoformat."""
    placeholders = ",".join("?" * len(ids))
    rows = session.connection().exec_driver_sql(
        "SELECT customer_id, id, type, occurred_at, properties, external_id FROM events"
        f" WHERE customer_id IN ({placeholders}) AND occurred_at <= ?"
        " ORDER BY customer_id, occurred_at, id",
        (*ids, sqlite_time(now)),
    )
    events: dict[int, list[EventFacts]] = defaultdict(list)
    parse_time, parse_json = datetime.fromisoformat, _parse_properties
    for customer_id, event_id, type_, occurred_at, properties, external_id in rows:
        events[customer_id].append(
            EventFacts(
                event_id,
                type_,
                parse_time(occurred_at).replace(tzinfo=UTC),
                as_mapping(parse_json(properties)) if properties else {},
                external_id,
            )
        )
    return events


def _parse_properties(text: str) -> Any:
    """orjson is several times faster than json here; the standard module reads what
    orjson refuses (NaN and Infinity, which Python's json writes). Integers beyond 64 bits
    come back as floats; the importer keeps long digit strings (ids) as text anyway."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _enrolments(session: Session, ids: Sequence[int]) -> dict[int, list[EnrolmentRecord]]:
    rows = session.execute(
        select(Enrolment)
        .where(Enrolment.customer_id.in_(ids))
        # Enrolment ids give the order of enrolments that began at one instant.
        .order_by(Enrolment.customer_id, Enrolment.entered_at, Enrolment.id)
    ).scalars()
    enrolments: dict[int, list[EnrolmentRecord]] = defaultdict(list)
    for row in rows:
        enrolments[row.customer_id].append(
            EnrolmentRecord(
                id=row.id,
                customer_id=row.customer_id,
                cadence=row.cadence,
                entered_at=row.entered_at,
                trigger_event_id=row.trigger_event_id,
                step_reached=row.step_reached,
                last_resolved_at=row.last_resolved_at,
                state=EnrolmentState(row.state),
                ended_at=row.ended_at,
                rules_version=row.rules_version,
                last_step=row.last_step,
            )
        )
    return enrolments


def _contacts(
    session: Session, ids: Sequence[int]
) -> tuple[dict[int, list[PastContact]], dict[int, set[str]]]:
    c = Contact
    rows = session.execute(
        select(
            c.customer_id,
            c.cadence,
            c.planned_at,
            c.channel,
            c.in_reply_to,
            c.idempotency_key,
            c.state,
        )
        .where(c.customer_id.in_(ids))
        .order_by(c.customer_id, c.planned_at, c.id)
    )
    contacts: dict[int, list[PastContact]] = defaultdict(list)
    keys: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        keys[row.customer_id].add(row.idempotency_key)
        if row.state not in NOT_COUNTING:  # caps count all but what was never seen
            contacts[row.customer_id].append(
                PastContact(
                    row.cadence,
                    row.planned_at,
                    row.channel,
                    row.in_reply_to,
                    queued=ContactState(row.state).queued,
                )
            )
    return contacts, keys


def _suppressions(
    session: Session, ids: Sequence[int], customers: Sequence[CustomerFacts]
) -> tuple[dict[int, list[SuppressionFacts]], dict[int, set[int]]]:
    """Suppressions by customer, or by handle (a handle can be suppressed before it is known)."""
    by_handle = {c.handle.lower(): c.id for c in customers if c.handle}
    s = Suppression
    condition: ColumnElement[bool] = s.customer_id.in_(ids)
    if by_handle:
        condition = or_(condition, s.handle_key.in_(list(by_handle)))
    rows = session.execute(
        select(s.customer_id, s.handle_key, s.reason, s.until, s.source_event_id).where(condition)
    )
    found: dict[int, list[SuppressionFacts]] = defaultdict(list)
    sources: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        owner = row.customer_id if row.customer_id is not None else by_handle.get(row.handle_key)
        if owner is None:
            continue
        found[owner].append(SuppressionFacts(row.reason, row.until))
        if row.source_event_id is not None:
            sources[owner].add(row.source_event_id)
    return found, sources
