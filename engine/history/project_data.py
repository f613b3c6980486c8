"""What the project check reads from the database: sample customers and the vocabulary.

`rapport validate` renders every step for real customers (real names break templates
best) and warns about event types and customer attributes that no data has. Those reads
live here, on the read side, so the project check itself (engine/project.py) takes them
as data and never opens a database: the daemon's reload and `diff` hand it the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, select
from sqlalchemy.exc import SQLAlchemyError

from engine.conditions import HistoryEvent
from engine.errors import RapportError
from engine.history.db import Database
from engine.history.models import Customer, Event

SAMPLE_LIMIT = 50  # customers from the database used to render each template
EVENTS_PER_SAMPLE = 1_000  # the most recent events of a sample customer (enough for aggregates)
ATTRIBUTE_ROWS = 10_000  # customers read for attribute names: a bound on validate's time


@dataclass(frozen=True)
class SampleCustomer:
    """A customer as a template sees it, with its history for the aggregates."""

    customer: dict[str, Any]  # id, handle, name, timezone, kind, attributes
    events: tuple[HistoryEvent, ...] = ()


@dataclass(frozen=True)
class ProjectData:
    """What the database says about the project; empty when there is no database yet."""

    customers: tuple[SampleCustomer, ...] = ()
    event_types: frozenset[str] = field(default_factory=frozenset)
    attributes: frozenset[str] = field(default_factory=frozenset)
    has_customers: bool = False


def sample_customers(db: Database, limit: int = SAMPLE_LIMIT) -> list[SampleCustomer]:
    """The first `limit` customers with a handle (a customer without one is never messaged),
    each with its most recent events in history order."""
    samples = []
    with db.read() as session:
        query = select(Customer).where(Customer.handle.is_not(None)).order_by(Customer.id)
        for row in session.scalars(query.limit(limit)):
            events = session.scalars(
                select(Event)
                .where(Event.customer_id == row.id)
                .order_by(Event.occurred_at.desc(), Event.id.desc())
                .limit(EVENTS_PER_SAMPLE)
            ).all()
            samples.append(
                SampleCustomer(
                    customer={
                        "id": row.external_id,
                        "handle": row.handle,
                        "name": row.name,
                        "timezone": row.timezone,
                        "kind": row.kind,
                        "attributes": dict(row.attributes or {}),
                    },
                    events=tuple(
                        HistoryEvent(e.type, e.occurred_at, dict(e.properties or {}))
                        for e in reversed(events)
                    ),
                )
            )
    return samples


def event_types(db: Database) -> frozenset[str]:
    """Every event type stored."""
    with db.read() as session:
        return frozenset(session.scalars(select(Event.type).distinct()))


def attribute_names(db: Database, limit: int = ATTRIBUTE_ROWS) -> tuple[frozenset[str], bool]:
    """Attribute names of the first `limit` customers, and whether there is any customer."""
    names: set[str] = set()
    seen = False
    with db.read() as session:
        rows = session.scalars(select(Customer.attributes).order_by(Customer.id).limit(limit))
        for attributes in rows:
            seen = True
            names.update(str(key) for key in (attributes or {}))
    return frozenset(names), seen


def project_data(db: Database, *, limit: int = SAMPLE_LIMIT) -> ProjectData:
    attributes, has_customers = attribute_names(db)
    return ProjectData(
        customers=tuple(sample_customers(db, limit)),
        event_types=event_types(db),
        attributes=attributes,
        has_customers=has_customers,
    )


def read_project_data(url: str, *, limit: int = SAMPLE_LIMIT) -> ProjectData:
    """The data at `url`, or none: never creates a database, and a database that cannot be
    read (missing file, server down, not migrated) is checked against no data."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
            return ProjectData()
        database = Database.open(url, upgrade=False)
    except (SQLAlchemyError, RapportError, OSError, ValueError):
        return ProjectData()
    try:
        return project_data(database, limit=limit)
    except (SQLAlchemyError, RapportError, OSError):
        return ProjectData()
    finally:
        database.dispose()
