"""`rapport import events FILE`: append-only, deduplicated by (source, external id).

An event without an `id` gets a content hash as its external id, so importing the same
file twice inserts nothing the second time. Each batch is one transaction whose new rows
get increasing `seq` numbers (the daemon's "new since" watermark) in file order: from the
database's sequence on PostgreSQL, as max + n under the write lock on SQLite (see
engine/history/event_seq.py for how a reader may use them).

An id seen before (stored, or earlier in the file) with the same content is unchanged.
With different content it is a conflict, never dropped quietly: the row is rejected with
what differs, and the first event is kept, unless `update=True` (`--update`) replaces it.
A replaced event gets a new `seq`, so the customer is evaluated again as for a new event
(see engine/history/changes.py). Event types are stored in lower case: `Purchase` in a
file is the `purchase` that rules name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, Table, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine import clock
from engine.history.db import Database
from engine.history.event_seq import EVENTS_WRITER_LOCK_KEY
from engine.history.importing import values as v
from engine.history.importing.columns import NumberColumns
from engine.history.importing.conflicts import Row, Stored, differences
from engine.history.importing.reading import Source, open_source
from engine.history.importing.summary import ImportSummary, OnProblem, OnProgress
from engine.history.models import Customer, Event, json_text, sqlite_time

COLUMNS = ("customer_id", "handle", "type", "occurred_at", "id")
REQUIRED = ("customer_id|handle", "type", "occurred_at")
BATCH_ROWS = 5_000
DEFAULT_SOURCE = "import"

CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class CustomerDirectory:
    """Every customer's database id by external id and by handle, loaded once per import.

    100k customers take a few MB; one query beats a lookup per batch at this size.
    """

    by_external_id: dict[str, int]
    by_handle_key: dict[str, tuple[int, str]]

    @classmethod
    def load(cls, db: Database) -> CustomerDirectory:
        by_id: dict[str, int] = {}
        by_handle: dict[str, tuple[int, str]] = {}
        with db.read() as session:
            rows = session.execute(
                select(CUSTOMERS.c.id, CUSTOMERS.c.external_id, CUSTOMERS.c.handle_key)
            )
            for pk, ext, key in rows:
                by_id[ext] = pk
                if key:
                    by_handle[key] = (pk, ext)
        return cls(by_id, by_handle)

    def resolve(self, cells: dict[str, Any]) -> tuple[int, str]:
        """(database id, external id) of the row's customer, by customer_id else handle."""
        if "customer_id" in cells:
            ext = v.external_id("customer_id", cells["customer_id"], "")
            pk = self.by_external_id.get(ext)
            if pk is None:
                raise v.RowError(
                    "customer_id", f"no customer has the id {ext!r} (import customers first)"
                )
            return pk, ext
        handle = v.handle("handle", cells.get("handle"))
        if handle is None:
            raise v.RowError("customer_id", "is empty (give customer_id or handle)")
        found = self.by_handle_key.get(v.handle_key(handle))
        if found is None:
            raise v.RowError("handle", f"no customer has the handle '@{handle}'")
        return found


def content_id(customer: str, type: str, occurred_iso: str, properties: dict[str, Any]) -> str:
    """The external id of an event given without one: a hash of everything it says."""
    canonical = json.dumps(
        [customer, type, occurred_iso, properties],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class _RowParser:
    """Rows to EventRows, at import speed. The common case (a known customer id, a type
    already seen, a clean ISO time) takes a short path; anything unusual goes through the
    checks in `values`, which raise the RowError the user sees."""

    def __init__(self, directory: CustomerDirectory, typed: bool) -> None:
        self.directory = directory
        self.typed = typed
        self.types: dict[str, str] = {}  # as written -> as stored
        self.text_keys: dict[str, bool] = {}

    def parse(self, cells: dict[str, Any]) -> EventRow:
        ext = cells.get("customer_id")
        pk = self.directory.by_external_id.get(ext) if type(ext) is str else None
        if pk is None:
            pk, ext = self.directory.resolve(cells)
        assert isinstance(ext, str)
        written = cells.get("type")
        # JSONL may give a list: unhashable, so test the type first
        kind = self.types.get(written) if type(written) is str else None
        if kind is None:
            kind = v.event_type("type", written)
            if type(written) is str:
                self.types[written] = kind
        occurred_at = _time(cells.get("occurred_at"))
        props = self._json_properties(cells) if self.typed else self._csv_properties(cells)
        given = cells.get("id")
        if given is None or given == "":
            event_id = content_id(ext, kind, occurred_at.isoformat(), props)
        elif type(given) is str and len(given) <= v.MAX_ID_LENGTH and given == given.strip():
            event_id = given
        else:
            event_id = v.external_id("id", given, "")
        return pk, ext, kind, occurred_at, props, event_id

    def _csv_properties(self, cells: dict[str, Any]) -> dict[str, Any]:
        props: dict[str, Any] = {}
        text_keys = self.text_keys
        for key, value in cells.items():
            if key in _NOT_PROPERTIES:
                continue
            text_key = text_keys.get(key)
            if text_key is None:
                text_key = text_keys[key] = v.is_text_key(key)
            # Cells are never empty here. Text that cannot start a number (or NaN/inf) is
            # kept as it is without a call; parse_cell decides the rest.
            first = value[0]
            if text_key or (first not in _MAY_START_A_NUMBER and not first.isdigit()):
                props[key] = value
            else:
                props[key] = v.parse_cell(key, value)
        return props

    def _json_properties(self, cells: dict[str, Any]) -> dict[str, Any]:
        props: dict[str, Any] = {}
        if "properties" in cells:
            given = cells["properties"]
            if not isinstance(given, dict):
                raise v.RowError("properties", "is not a JSON object")
            props.update({k: v.json_value(k, x) for k, x in given.items() if x is not None})
        for key, value in cells.items():
            if key not in _NOT_PROPERTIES and key != "properties":
                props[key] = v.json_value(key, value)
        return props


_NOT_PROPERTIES = frozenset(COLUMNS)
_MAY_START_A_NUMBER = frozenset("0123456789-+nNiI")

# What a row becomes: (customer pk, customer external id, type, occurred_at, properties,
# event external id).
EventRow = Row
Numbered = tuple[int, EventRow]  # (line, row)


def _time(value: Any) -> datetime:
    """parse_time's meaning (naive = UTC, a date alone = 00:00 UTC), minus its overhead."""
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            elif moment.tzinfo is not UTC:
                moment = moment.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
        else:
            if clock.in_range(moment):
                return moment
    checked = v.time("occurred_at", value, required=True)
    assert checked is not None
    return checked


def _batches(
    source: Source, summary: ImportSummary, directory: CustomerDirectory, columns: NumberColumns
) -> Iterator[list[Numbered]]:
    batch: list[Numbered] = []
    parse, reject, read = _RowParser(directory, source.typed).parse, summary.reject, 0
    for line, cells in source.rows():
        read += 1
        if isinstance(cells, str):
            reject(line, cells)
            continue
        try:
            row = parse(cells)
        except v.RowError as exc:
            reject(line, str(exc))
            continue
        columns.see(row[4], line)
        batch.append((line, row))
        if len(batch) >= BATCH_ROWS:
            summary.read = read
            yield batch
            batch = []
    summary.read = read
    if batch:
        yield batch


def insert_ignoring_duplicates(db: Database) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING in the database's own dialect."""
    dialect = sqlite if db.is_sqlite else postgresql
    return dialect.insert(EVENTS).on_conflict_do_nothing(index_elements=["source", "external_id"])


# SQLite fast path: the same statement with values already in SQLAlchemy's storage formats
# (DATETIME as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, JSON via json.dumps), handed straight to
# the driver's executemany. Per-row bind processing was half the cost of an import; the
# tests read the rows back through the models to prove the formats match.
_SQLITE_INSERT = (
    "INSERT INTO events (customer_id, type, occurred_at, properties, external_id, source, seq)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, external_id) DO NOTHING"
)


def _stored(db: Database, session: Session, source: str, ids: set[str]) -> dict[str, Stored]:
    """The batch's ids already in the database, with what they say."""
    if db.is_sqlite:  # raw text, compared without decoding (see conflicts.Raw)
        marks = ",".join("?" * len(ids))
        found = session.connection().exec_driver_sql(
            "SELECT e.id, e.customer_id, c.external_id, e.type, e.occurred_at, e.properties,"
            " e.external_id FROM events e JOIN customers c ON c.id = e.customer_id"
            f" WHERE e.source = ? AND e.external_id IN ({marks})",
            (source, *ids),
        )
        return {r[6]: Stored(r[0], raw=(r[1], r[2], r[3], r[4], r[5], r[6])) for r in found}
    rows = session.execute(
        select(
            EVENTS.c.id,
            EVENTS.c.customer_id,
            CUSTOMERS.c.external_id,
            EVENTS.c.type,
            EVENTS.c.occurred_at,
            EVENTS.c.properties,
            EVENTS.c.external_id,
        )
        .join(CUSTOMERS, CUSTOMERS.c.id == EVENTS.c.customer_id)
        .where(EVENTS.c.source == source, EVENTS.c.external_id.in_(ids))
    )
    return {r[6]: Stored(r[0], row=(r[1], r[2], r[3], r[4], r[5], r[6])) for r in rows}


@dataclass
class _Plan:
    """What one batch does: rows to insert, stored events to replace."""

    inserts: dict[str, EventRow]
    replaces: dict[int, EventRow]  # by the stored event's database id


def _plan(
    batch: list[Numbered], stored: dict[str, Stored], summary: ImportSummary, *, update: bool
) -> _Plan:
    plan = _Plan({}, {})
    for line, row in batch:
        event_id = row[5]
        earlier = plan.inserts.get(event_id)
        known = stored.get(event_id) if earlier is None else None
        if earlier is None and known is None:
            plan.inserts[event_id] = row
            continue
        if earlier == row or (known is not None and known.same_as(row)):
            summary.unchanged += 1
            continue
        before = earlier if earlier is not None else known.decoded()  # type: ignore[union-attr]
        if not update:
            summary.reject(
                line,
                f"id {event_id!r} already imported with different content"
                f" ({differences(before, row)}); kept the first (use --update to replace it)",
            )
        elif known is None:
            plan.inserts[event_id] = row  # replaced before it was ever stored
            summary.updated += 1
        else:
            plan.replaces[known.id] = row
            stored[event_id] = Stored(known.id, row=row)
            summary.changed_customers.update((before[0], row[0]))
            summary.updated += 1
    return plan


def _write(
    db: Database, batch: list[Numbered], source: str, summary: ImportSummary, *, update: bool
) -> None:
    """One batch in one transaction: new rows inserted, changed ones reported or replaced."""
    with db.write() as session:
        # SQLite: read under the write lock (BEGIN IMMEDIATE), so no other writer shares a seq.
        # PostgreSQL numbers rows from its own sequence (migration 0003).
        top = (session.execute(select(func.max(EVENTS.c.seq))).scalar() or 0) if db.is_sqlite else 0
        stored = _stored(db, session, source, {row[5] for _, row in batch})
        plan = _plan(batch, stored, summary, update=update)
        inserted = _insert(db, session, list(plan.inserts.values()), source, top)
        summary.inserted += inserted
        summary.unchanged += len(plan.inserts) - inserted  # another importer was first
        if plan.replaces:
            _replace(db, session, plan.replaces, top + len(plan.inserts))


def _insert(db: Database, session: Session, rows: list[EventRow], source: str, top: int) -> int:
    """Insert rows in file order (seq top+1, top+2, … on SQLite); returns how many were new."""
    if not rows:
        return 0
    if db.is_sqlite:
        dumps = json_text
        values = [
            (pk, t, _sqlite_utc(at), dumps(p), e, source, top + n)
            for n, (pk, _, t, at, p, e) in enumerate(rows, start=1)
        ]
        return int(session.connection().exec_driver_sql(_SQLITE_INSERT, values).rowcount)
    # PostgreSQL: the database numbers the rows from its sequence, in file order (the
    # model's seq 0 means "number it"; migration 0003). An executemany reports no row
    # count there, so count the rows it returns.
    params = [
        {"customer_id": pk, "type": t, "occurred_at": at, "properties": p}
        | {"external_id": e, "source": source}
        for pk, _, t, at, p, e in rows
    ]
    inserted = session.execute(insert_ignoring_duplicates(db).returning(EVENTS.c.id), params)
    return len(inserted.all())


def _sqlite_utc(moment: datetime) -> str:
    """sqlite_time for the times `_time` returns (UTC, a four-digit year), a third of its cost."""
    if moment.tzinfo is UTC:
        return moment.isoformat(" ", "microseconds")[:26]
    return sqlite_time(moment)


def _replace(db: Database, session: Session, replaces: dict[int, EventRow], top: int) -> None:
    """Overwrite stored events; each gets a new seq, so it counts as news for the daemon."""
    statement = update(EVENTS).where(EVENTS.c.id == bindparam("_id"))
    if not db.is_sqlite:
        # The insert trigger does not fire for an update: take the writers' shared lock and
        # draw from the sequence as an insert would (engine/history/event_seq.py).
        session.execute(
            text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": EVENTS_WRITER_LOCK_KEY}
        )
        statement = statement.values(seq=func.nextval("events_seq_seq"))
    session.execute(
        statement,
        [
            {"_id": event, "customer_id": pk, "type": t, "occurred_at": at, "properties": p}
            | ({"seq": top + n} if db.is_sqlite else {})
            for n, (event, (pk, _, t, at, p, _e)) in enumerate(replaces.items(), start=1)
        ],
    )


def import_events(
    db: Database,
    path: str | Path,
    *,
    source: str = DEFAULT_SOURCE,
    update: bool = False,
    on_problem: OnProblem | None = None,
    on_progress: OnProgress | None = None,
) -> ImportSummary:
    """Import an events CSV/JSONL file; bad rows are reported and skipped (see summary).

    `update`: an id imported before with other content replaces the stored event instead
    of being reported as a conflict.
    """
    summary = ImportSummary(str(path), on_problem=on_problem)
    with open_source(path, REQUIRED, kind="events") as file:
        columns = NumberColumns(csv=not file.typed)
        directory = CustomerDirectory.load(db)
        for batch in _batches(file, summary, directory, columns):
            _write(db, batch, source, summary, update=update)
            if on_progress is not None:
                on_progress(file.bytes_read, file.size)
    for warning in columns.warnings():
        summary.warn(warning)
    return summary
