"""`rapport import events FILE`: append-only, deduplicated by (source, external id).

An event without an `id` gets a content hash as its external id, so importing the same
file twice inserts nothing the second time. Each batch is one transaction whose new rows
get increasing `seq` numbers (the daemon's "new since" watermark) in file order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from engine.history.db import Database
from engine.history.importing import values as v
from engine.history.importing.reading import Source, open_source
from engine.history.importing.summary import ImportSummary, OnProblem, OnProgress
from engine.history.models import Customer, Event

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


def _properties(cells: dict[str, Any], typed: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if typed and "properties" in cells:
        given = cells["properties"]
        if not isinstance(given, dict):
            raise v.RowError("properties", "is not a JSON object")
        props.update({k: v.json_value(k, x) for k, x in given.items()})
    for key, value in cells.items():
        if key in COLUMNS or (typed and key == "properties"):
            continue
        props[key] = v.json_value(key, value) if typed else v.parse_cell(key, value)
    return props


def parse_event(
    cells: dict[str, Any], typed: bool, directory: CustomerDirectory, source: str
) -> dict[str, Any]:
    """One row to the parameters of its INSERT, or RowError for its first bad field."""
    pk, ext = directory.resolve(cells)
    type = v.event_type("type", cells.get("type"))
    occurred_at = v.time("occurred_at", cells.get("occurred_at"), required=True)
    assert occurred_at is not None
    props = _properties(cells, typed)
    given = cells.get("id")
    if given is not None and given != "":
        event_id = v.external_id("id", given, "")
    else:
        event_id = content_id(ext, type, occurred_at.isoformat(), props)
    return {
        "customer_id": pk,
        "type": type,
        "occurred_at": occurred_at,
        "properties": props,
        "external_id": event_id,
        "source": source,
    }


def insert_ignoring_duplicates(db: Database) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING in the database's own dialect."""
    dialect = sqlite if db.is_sqlite else postgresql
    return dialect.insert(EVENTS).on_conflict_do_nothing(index_elements=["source", "external_id"])


def _batches(
    source: Source, summary: ImportSummary, directory: CustomerDirectory, name: str
) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    typed = source.typed
    for line, cells in source.rows():
        summary.read += 1
        if isinstance(cells, str):
            summary.reject(line, cells)
            continue
        try:
            batch.append(parse_event(cells, typed, directory, name))
        except v.RowError as exc:
            summary.reject(line, str(exc))
            continue
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


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
    statement = insert_ignoring_duplicates(db)
    with open_source(path, REQUIRED) as file:
        directory = CustomerDirectory.load(db)
        for batch in _batches(file, summary, directory, source):
            with db.write() as session:
                # Read under the write lock, so concurrent importers never share a seq.
                top = session.execute(select(func.max(EVENTS.c.seq))).scalar() or 0
                for offset, params in enumerate(batch, start=1):
                    params["seq"] = top + offset
                inserted = session.execute(statement, batch).rowcount  # type: ignore[attr-defined]
            summary.inserted += inserted
            summary.unchanged += len(batch) - inserted
            if on_progress is not None:
                on_progress(file.bytes_read, file.size)
    return summary
