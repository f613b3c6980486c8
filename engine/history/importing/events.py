"""`rapport import events FILE`: append-only, deduplicated by (source, external id).

An event without an `id` gets a content hash as its external id, so importing the same
file twice inserts nothing the second time. Each batch is one transaction whose new rows
get increasing `seq` numbers (the daemon's "new since" watermark) in file order: from the
database's sequence on PostgreSQL, as max + n under the write lock on SQLite (see
engine/history/event_seq.py for how a reader may use them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from engine import clock
from engine.history.db import Database
from engine.history.importing import values as v
from engine.history.importing.reading import Source, open_source
from engine.history.importing.summary import ImportSummary, OnProblem, OnProgress
from engine.history.models import Customer, Event, sqlite_time

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
        self.types: set[str] = set()
        self.text_keys: dict[str, bool] = {}

    def parse(self, cells: dict[str, Any]) -> EventRow:
        ext = cells.get("customer_id")
        pk = self.directory.by_external_id.get(ext) if type(ext) is str else None
        if pk is None:
            pk, ext = self.directory.resolve(cells)
        assert isinstance(ext, str)
        kind = cells.get("type")
        if type(kind) is not str or kind not in self.types:  # JSONL may give a list: unhashable
            kind = v.event_type("type", kind)
            self.types.add(kind)
        assert isinstance(kind, str)
        occurred_at = _time(cells.get("occurred_at"))
        props = self._json_properties(cells) if self.typed else self._csv_properties(cells)
        given = cells.get("id")
        if given is None or given == "":
            event_id = content_id(ext, kind, occurred_at.isoformat(), props)
        elif type(given) is str and len(given) <= v.MAX_ID_LENGTH and given == given.strip():
            event_id = given
        else:
            event_id = v.external_id("id", given, "")
        return pk, kind, occurred_at, props, event_id

    def _csv_properties(self, cells: dict[str, Any]) -> dict[str, Any]:
        props: dict[str, Any] = {}
        text_keys = self.text_keys
        for key, value in cells.items():
            if key in _NOT_PROPERTIES:
                continue
            text_key = text_keys.get(key)
            if text_key is None:
                text_key = text_keys[key] = v.is_text_key(key)
            props[key] = value if text_key else v.parse_cell(key, value)
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

# (customer pk, type, occurred_at, properties, external id): what a row becomes.
EventRow = tuple[int, str, datetime, dict[str, Any], str]


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
    source: Source, summary: ImportSummary, directory: CustomerDirectory
) -> Iterator[list[EventRow]]:
    batch: list[EventRow] = []
    parse, reject, read = _RowParser(directory, source.typed).parse, summary.reject, 0
    for line, cells in source.rows():
        read += 1
        if isinstance(cells, str):
            reject(line, cells)
            continue
        try:
            batch.append(parse(cells))
        except v.RowError as exc:
            reject(line, str(exc))
            continue
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


def _write(db: Database, batch: list[EventRow], source: str) -> int:
    """Insert one batch in one transaction; returns how many rows were new."""
    with db.write() as session:
        if db.is_sqlite:
            # Read under the write lock (BEGIN IMMEDIATE), so no other writer shares a seq.
            top = session.execute(select(func.max(EVENTS.c.seq))).scalar() or 0
            dumps = json.dumps
            rows = [
                (pk, t, sqlite_time(at), dumps(p), e, source, top + n)
                for n, (pk, t, at, p, e) in enumerate(batch, start=1)
            ]
            return int(session.connection().exec_driver_sql(_SQLITE_INSERT, rows).rowcount)
        # PostgreSQL: the database numbers the rows from its sequence, in file order (the
        # model's seq 0 means "number it"; migration 0003). An executemany reports no row
        # count there, so count the rows it returns.
        params = [
            {"customer_id": pk, "type": t, "occurred_at": at, "properties": p}
            | {"external_id": e, "source": source}
            for pk, t, at, p, e in batch
        ]
        inserted = session.execute(insert_ignoring_duplicates(db).returning(EVENTS.c.id), params)
        return len(inserted.all())


def import_events(
    db: Database,
    path: str | Path,
    *,
    source: str = DEFAULT_SOURCE,
    on_problem: OnProblem | None = None,
    on_progress: OnProgress | None = None,
) -> ImportSummary:
    """Import an events CSV/JSONL file; bad rows are reported and skipped (see summary)."""
    summary = ImportSummary(str(path), on_problem=on_problem)
    with open_source(path, REQUIRED) as file:
        directory = CustomerDirectory.load(db)
        for batch in _batches(file, summary, directory):
            inserted = _write(db, batch, source)
            summary.inserted += inserted
            summary.unchanged += len(batch) - inserted
            if on_progress is not None:
                on_progress(file.bytes_read, file.size)
    return summary
