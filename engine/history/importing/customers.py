"""`rapport import customers FILE`: upsert by external id, in batches of a few thousand rows.

Rows are taken in file order: a handle belongs to the customer who holds it at that row, so
a file may move a handle from one customer to another (the later row wins only after the
earlier holder let it go). Unchanged rows are counted, not rewritten. A file sets only the
columns it has: re-importing a file of ids and one attribute keeps everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.history.db import Database
from engine.history.importing import values as v
from engine.history.importing.columns import NumberColumns
from engine.history.importing.reading import Source, open_source
from engine.history.importing.summary import ImportSummary, OnProblem, OnProgress
from engine.history.models import Customer

COLUMNS = ("id", "handle", "name", "timezone", "kind", "consent_at", "consent_source")
REQUIRED = ("id",)
BATCH_ROWS = 5_000
# The columns an import sets; equal values on all of them = an unchanged row.
FIELDS = ("handle", "handle_key", "name", "timezone", "kind", "consent_at", "consent_source")
_WRITTEN = (*FIELDS, "attributes")

CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]


# What a new customer has for a column its file does not have.
NEW_CUSTOMER: dict[str, Any] = {f: None for f in FIELDS} | {"kind": "customer"}


@dataclass(frozen=True)
class CustomerRow:
    """One row's changes. Only the columns the file has are in `fields`, so a file with
    just id and tier does not wipe the names, zones and consent an earlier import set."""

    line: int
    external_id: str
    fields: dict[str, Any]  # the FIELDS the file has
    attributes: dict[str, Any]  # attributes to set
    cleared: frozenset[str] = frozenset()  # attribute columns with an empty cell

    def inserted(self) -> dict[str, Any]:
        return {**NEW_CUSTOMER, **self.fields, "attributes": self.attributes}

    def merged(self, old: dict[str, Any]) -> dict[str, Any]:
        kept = {k: x for k, x in (old["attributes"] or {}).items() if k not in self.cleared}
        return {**old, **self.fields, "attributes": {**kept, **self.attributes}}


def _attributes(cells: dict[str, Any], typed: bool) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if typed and "attributes" in cells:
        given = cells["attributes"]
        if not isinstance(given, dict):
            raise v.RowError("attributes", "is not a JSON object")
        attributes.update(given)
    for key, value in cells.items():
        if key in COLUMNS or (typed and key == "attributes"):
            continue
        attributes[key] = v.json_value(key, value) if typed else v.parse_cell(key, value)
    return attributes


_CHECKS: dict[str, Any] = {
    "name": v.name,
    "timezone": v.timezone,
    "kind": v.kind,
    "consent_at": lambda field, value: v.time(field, value, required=False),
    "consent_source": v.name,
}


def parse_customer(
    line: int, cells: dict[str, Any], typed: bool, header: tuple[str, ...] = ()
) -> CustomerRow:
    """One row to a CustomerRow, or RowError for its first bad field.

    The columns a row sets are the CSV header's (an empty cell clears that column) or, in
    JSONL, the row's own keys (a null is the same as an absent key).
    """
    present = set(header) if header else set(cells)
    handle = v.handle("handle", cells.get("handle"))
    attributes = _attributes(cells, typed)
    fields: dict[str, Any] = {}
    if "handle" in present:
        fields["handle"] = handle
        fields["handle_key"] = v.handle_key(handle) if handle else None
    for column, check in _CHECKS.items():
        if column in present:
            fields[column] = check(column, cells.get(column))
    cleared = frozenset(c for c in header if c and c not in COLUMNS and c not in cells)
    return CustomerRow(
        line,
        v.external_id("id", cells.get("id"), "every customer needs an id"),
        fields,
        attributes,
        cleared,
    )


# A parsed row, or (line, reason) for a row rejected while parsing: kept in one stream so
# every problem, handle clashes included, is reported in row order.
Parsed = CustomerRow | tuple[int, str]


def _parsed(source: Source, summary: ImportSummary, columns: NumberColumns) -> Iterator[Parsed]:
    """Rows in file order. An id that comes again in the same file is reported and the
    first row kept: which of two rows is right is for the user to say, not the importer."""
    first_line: dict[str, int] = {}
    for line, cells in source.rows():
        summary.read += 1
        if isinstance(cells, str):
            yield line, cells
            continue
        try:
            row = parse_customer(line, cells, source.typed, source.columns)
        except v.RowError as exc:
            yield line, str(exc)
            continue
        earlier = first_line.setdefault(row.external_id, line)
        if earlier != line:
            yield (
                line,
                f"id {row.external_id!r} appears again (first at line {earlier});"
                " the first row is kept",
            )
            continue
        columns.see(row.attributes, line)
        yield row


def _batches(rows: Iterable[Parsed]) -> Iterator[list[Parsed]]:
    batch: list[Parsed] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


class _Batch:
    """Decides insert / update / unchanged / reject for one batch against the stored rows."""

    def __init__(self, session: Session, rows: list[CustomerRow]) -> None:
        ids = {r.external_id for r in rows}
        keys = {r.fields["handle_key"] for r in rows if r.fields.get("handle_key")}
        cols = [CUSTOMERS.c.id, CUSTOMERS.c.external_id, CUSTOMERS.c.attributes]
        cols += [CUSTOMERS.c[f] for f in FIELDS]
        found = session.execute(select(*cols).where(CUSTOMERS.c.external_id.in_(ids)))
        self.state: dict[str, dict[str, Any]] = {r.external_id: dict(r._mapping) for r in found}
        holders = session.execute(
            select(CUSTOMERS.c.handle_key, CUSTOMERS.c.external_id).where(
                CUSTOMERS.c.handle_key.in_(keys)
            )
        )
        self.owner: dict[str, str] = {key: ext for key, ext in holders}
        self.inserts: dict[str, dict[str, Any]] = {}
        self.updates: dict[str, dict[str, Any]] = {}
        self.handles_moved = False

    def take(self, row: CustomerRow, summary: ImportSummary) -> None:
        ext = row.external_id
        key = row.fields.get("handle_key")
        holder = self.owner.get(key) if key else None
        if holder is not None and holder != ext:
            summary.reject(
                row.line,
                f"field 'handle': '@{row.fields['handle']}' already belongs to customer"
                f" {holder!r} (this row is customer {ext!r}; handles are unique, ignoring case)",
            )
            return
        old = self.state.get(ext)
        if old is None:
            summary.inserted += 1
            self.inserts[ext] = self.state[ext] = {"external_id": ext, **row.inserted()}
            key = self.state[ext]["handle_key"]
        else:
            merged = row.merged(old)
            if all(old[f] == merged[f] for f in _WRITTEN):
                summary.unchanged += 1
                return
            summary.updated += 1
            self.state[ext] = merged
            (self.inserts if ext in self.inserts else self.updates)[ext] = merged
            key = merged["handle_key"]
            if old["handle_key"] and old["handle_key"] != key:
                self.owner.pop(old["handle_key"], None)
                self.handles_moved = True
        if key:
            self.owner[key] = ext

    def write(self, session: Session) -> None:
        now = clock.now()
        if self.updates:
            by_id = update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("_id"))
            if self.handles_moved:
                # Free the handles first, so one can pass from a customer to another inside
                # a batch without tripping the unique index midway.
                session.execute(
                    by_id.values(handle_key=None), [{"_id": r["id"]} for r in self.updates.values()]
                )
            session.execute(
                by_id,
                [
                    {"_id": row["id"], "updated_at": now, **{k: row[k] for k in _WRITTEN}}
                    for row in self.updates.values()
                ],
            )
        if self.inserts:
            session.execute(
                insert(CUSTOMERS),
                [{"created_at": now, "updated_at": now, **row} for row in self.inserts.values()],
            )


def import_customers(
    db: Database,
    path: str | Path,
    *,
    on_problem: OnProblem | None = None,
    on_progress: OnProgress | None = None,
) -> ImportSummary:
    """Import a customers CSV/JSONL file; bad rows are reported and skipped (see summary)."""
    summary = ImportSummary(str(path), on_problem=on_problem)
    columns = NumberColumns()
    with open_source(path, REQUIRED, kind="customers") as source:
        for rows in _batches(_parsed(source, summary, columns)):
            with db.write() as session:
                batch = _Batch(session, [r for r in rows if isinstance(r, CustomerRow)])
                for row in rows:
                    if isinstance(row, CustomerRow):
                        batch.take(row, summary)
                    else:
                        summary.reject(*row)
                batch.write(session)
            if on_progress is not None:
                on_progress(source.bytes_read, source.size)
    for warning in columns.warnings():
        summary.warn(warning)
    return summary
