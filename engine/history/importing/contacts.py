"""`rapport import contacts FILE`: past contacts from another tool, for caps, reentry and
measurement.

Columns: `customer_id` (or `handle`), `cadence`, `step`, `sent_at` (required); `enrolled_at`
(when the customer entered the cadence; default `sent_at`; rows of one customer, cadence
and `enrolled_at` are the steps of one enrolment), `group` (`treatment`, the default;
`holdout` or `global_holdout` for a control that got no message), `state` (`sent`, the
default, or `failed`, `rejected`, `expired`, `cancelled`), `channel` (`review`, the
default, or `x`), `variant`, `text`.

What a row becomes:
- an enrolment (finished, or held_out for a control), so `reentry` sees it;
- for treatment, a ledger contact in its final state, keyed like the engine's own (customer,
  cadence, enrolment start, step), so caps count it and the engine never produces that
  occurrence again;
- a step resolution at `sent_at`, where measurement starts the response window. A control
  row becomes only this: it is no message, so it never counts for a cap and is never
  delivered.

Idempotent: the same file imported twice adds nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.history.db import Database
from engine.history.importing import values as v
from engine.history.importing.events import CustomerDirectory
from engine.history.importing.reading import open_source
from engine.history.importing.summary import ImportSummary, OnProblem, OnProgress
from engine.history.models import Contact, Enrolment, StepResolution
from engine.ledger.states import Channel, ContactState, EnrolmentState
from engine.policy.keys import idempotency_key

REQUIRED = ("customer_id|handle", "cadence", "step", "sent_at")
BATCH_ROWS = 2_000
RULES_VERSION = "import"  # the rules_version of enrolments this importer creates
GROUPS = {"treatment": None, "holdout": "held_out", "global_holdout": "global_holdout"}
# A past contact is over: only final states, never one still waiting to leave.
PAST_STATES = tuple(
    s.value
    for s in (
        ContactState.SENT,
        ContactState.FAILED,
        ContactState.REJECTED,
        ContactState.EXPIRED,
        ContactState.CANCELLED,
    )
)
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")

ENROLMENTS: Table = Enrolment.__table__  # type: ignore[assignment]
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
RESOLUTIONS: Table = StepResolution.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class PastContact:
    line: int
    customer_id: int
    customer_external_id: str
    cadence: str
    step: str
    sent_at: datetime
    enrolled_at: datetime
    holdout: str | None  # None: treatment; held_out | global_holdout: a control
    state: str
    channel: str
    variant: str
    text: str

    @property
    def key(self) -> tuple[int, str, datetime]:
        return self.customer_id, self.cadence, self.enrolled_at


def _choice(field: str, value: Any, allowed: tuple[str, ...], default: str) -> str:
    text = "" if value is None else v.text_of(field, value)
    if not text:
        return default
    if text not in allowed:
        raise v.RowError(field, f"{text!r} is not one of {', '.join(allowed)}")
    return text


def _slug(field: str, value: Any, example: str) -> str:
    text = v.required_text(field, value, f"name the {field}, e.g. {example}")
    if not _SLUG.fullmatch(text):
        raise v.RowError(field, f"{text!r} is not a {field} name (letters, digits, - _ .)")
    return text


def parse_row(line: int, cells: dict[str, Any], directory: CustomerDirectory) -> PastContact:
    pk, ext = directory.resolve(cells)
    sent_at = v.time("sent_at", cells.get("sent_at"), required=True)
    assert sent_at is not None
    enrolled_at = v.time("enrolled_at", cells.get("enrolled_at"), required=False) or sent_at
    if enrolled_at > sent_at:
        raise v.RowError("enrolled_at", "is after sent_at (a step resolves after enrolment)")
    group = _choice("group", cells.get("group"), tuple(GROUPS), "treatment")
    holdout = GROUPS[group]
    if holdout is not None and cells.get("state") not in (None, ""):
        raise v.RowError("state", "a control got no message: leave state empty for it")
    variant = "" if cells.get("variant") is None else v.text_of("variant", cells["variant"])
    if len(variant) > 32:
        raise v.RowError("variant", "is longer than 32 characters")
    return PastContact(
        line=line,
        customer_id=pk,
        customer_external_id=ext,
        cadence=_slug("cadence", cells.get("cadence"), "win-back"),
        step=_slug("step", cells.get("step"), "thanks"),
        sent_at=sent_at,
        enrolled_at=enrolled_at,
        holdout=holdout,
        state=_choice("state", cells.get("state"), PAST_STATES, ContactState.SENT.value),
        channel=_choice(
            "channel", cells.get("channel"), tuple(c.value for c in Channel), Channel.REVIEW.value
        ),
        variant=variant,
        text="" if cells.get("text") is None else str(cells["text"]),
    )


@dataclass
class Known:
    """What the importer needs of an enrolment already stored (or made by this batch)."""

    id: int
    state: str
    rules_version: str
    last_resolved_at: datetime | None
    step_reached: int


class _Writer:
    """One batch in one transaction, in a few bulk statements (one per table), not one per
    row: what is already stored is read first, so only new rows are written and counted."""

    def __init__(self, db: Database, session: Session, summary: ImportSummary) -> None:
        self.db, self.session, self.summary = db, session, summary

    def _insert(self, table: Table, unique: list[str]) -> Insert:
        dialect = sqlite if self.db.is_sqlite else postgresql
        return dialect.insert(table).on_conflict_do_nothing(index_elements=unique)

    def enrolments(self, rows: list[PastContact]) -> dict[tuple[int, str, datetime], Known]:
        customers = sorted({r.customer_id for r in rows})
        found = self.session.execute(
            select(ENROLMENTS).where(ENROLMENTS.c.customer_id.in_(customers))
        ).all()
        return {
            (e.customer_id, e.cadence, e.entered_at): Known(
                e.id, e.state, e.rules_version, e.last_resolved_at, e.step_reached
            )
            for e in found
        }

    def write(self, rows: list[PastContact]) -> None:
        known = self.enrolments(rows)
        self._new_enrolments(rows, known)  # the first row of an enrolment sets its group
        accepted = [row for row in rows if self._fits(row, known[row.key])]
        stored = self._stored(known)
        resolutions: list[dict[str, Any]] = []
        contacts: list[dict[str, Any]] = []
        moved: dict[int, dict[str, Any]] = {}
        for row in accepted:
            enrolment = known[row.key]
            added = False
            if (enrolment.id, row.step) not in stored:
                stored.add((enrolment.id, row.step))
                resolutions.append(_resolution_row(row, enrolment.id))
                added = True
            key = idempotency_key(row.customer_external_id, row.cadence, row.enrolled_at, row.step)
            if row.holdout is None and key not in stored:
                stored.add(key)
                contacts.append(_contact_row(row, enrolment.id, key))
                added = True
            if added:
                self._move_on(row, enrolment, moved)
                self.summary.inserted += 1
            else:
                self.summary.unchanged += 1
        if resolutions:
            self.session.execute(self._insert(RESOLUTIONS, ["enrolment_id", "step"]), resolutions)
        if contacts:
            self.session.execute(self._insert(CONTACTS, ["idempotency_key"]), contacts)
        if moved:
            statement = update(ENROLMENTS).where(ENROLMENTS.c.id == bindparam("key"))
            self.session.execute(statement, list(moved.values()))

    def _fits(self, row: PastContact, enrolment: Known) -> bool:
        """A row cannot change an enrolment's group: treatment stays treatment."""
        control = row.holdout is not None
        if (enrolment.state == EnrolmentState.HELD_OUT) == control:
            return True
        arms = ("treatment", "a control") if control else ("a control", "treatment")
        self.summary.reject(
            row.line,
            f"field 'group': this enrolment is {arms[0]} already; "
            f"a row of it cannot be {arms[1]} (check group or enrolled_at)",
        )
        return False

    def _new_enrolments(
        self, rows: list[PastContact], known: dict[tuple[int, str, datetime], Known]
    ) -> None:
        """One enrolment per (customer, cadence, enrolled_at) not stored yet; rows are
        sorted by time, so the first row of each is its first step."""
        first: dict[tuple[int, str, datetime], PastContact] = {}
        for row in rows:
            if row.key not in known:
                first.setdefault(row.key, row)
        if not first:
            return
        values = [
            {
                "customer_id": row.customer_id,
                "cadence": row.cadence,
                "entered_at": row.enrolled_at,
                "trigger_event_id": None,
                "step_reached": 0,
                "state": _state(row).value,
                "rules_version": RULES_VERSION,
                "last_step": None,
                "last_resolved_at": None,
                "ended_at": row.sent_at,
            }
            for row in first.values()
        ]
        if self.db.is_sqlite:
            # The write lock (BEGIN IMMEDIATE) is held: nobody else can take these ids.
            top = self.session.execute(select(func.max(ENROLMENTS.c.id))).scalar() or 0
            ids = list(range(top + 1, top + 1 + len(values)))
            self.session.execute(
                insert(ENROLMENTS), [{"id": i, **v} for i, v in zip(ids, values, strict=True)]
            )
        else:
            returning = insert(ENROLMENTS).returning(ENROLMENTS.c.id, sort_by_parameter_order=True)
            ids = list(self.session.scalars(returning, values).all())
        for (key, row), new_id in zip(first.items(), ids, strict=True):
            known[key] = Known(new_id, _state(row).value, RULES_VERSION, None, 0)

    def _stored(self, known: dict[tuple[int, str, datetime], Known]) -> set[Any]:
        """(enrolment id, step) of stored resolutions and the keys of stored contacts."""
        ids = sorted({k.id for k in known.values()})
        stored: set[Any] = set()
        for start in range(0, len(ids), 900):  # SQLite's limit on bound parameters
            chunk = ids[start : start + 900]
            stored |= {
                (enrolment_id, step)
                for enrolment_id, step in self.session.execute(
                    select(RESOLUTIONS.c.enrolment_id, RESOLUTIONS.c.step).where(
                        RESOLUTIONS.c.enrolment_id.in_(chunk)
                    )
                )
            }
            stored |= set(
                self.session.scalars(
                    select(CONTACTS.c.idempotency_key).where(CONTACTS.c.enrolment_id.in_(chunk))
                )
            )
        return stored

    def _move_on(
        self, row: PastContact, enrolment: Known, moved: dict[int, dict[str, Any]]
    ) -> None:
        """A past enrolment has got as far as its latest imported step."""
        if enrolment.rules_version != RULES_VERSION:
            return  # the engine's own enrolment: its progress is the engine's
        if enrolment.last_resolved_at is not None and row.sent_at <= enrolment.last_resolved_at:
            return
        enrolment.step_reached += 1
        enrolment.last_resolved_at = row.sent_at
        moved[enrolment.id] = {
            "key": enrolment.id,
            "step_reached": enrolment.step_reached,
            "last_step": row.step,
            "last_resolved_at": row.sent_at,
            "ended_at": row.sent_at,
        }


def _state(row: PastContact) -> EnrolmentState:
    return EnrolmentState.HELD_OUT if row.holdout else EnrolmentState.FINISHED


def _resolution_row(row: PastContact, enrolment_id: int) -> dict[str, Any]:
    return {
        "enrolment_id": enrolment_id,
        "customer_id": row.customer_id,
        "cadence": row.cadence,
        "step": row.step,
        "arm": "control" if row.holdout else "treatment",
        "outcome": row.holdout or "imported",
        "resolved_at": row.sent_at,
    }


def _contact_row(row: PastContact, enrolment_id: int, key: str) -> dict[str, Any]:
    return {
        "customer_id": row.customer_id,
        "enrolment_id": enrolment_id,
        "cadence": row.cadence,
        "step": row.step,
        "variant": row.variant,
        "idempotency_key": key,
        "text": row.text,
        "channel": row.channel,
        "state": row.state,
        "in_reply_to": None,
        "planned_at": row.sent_at,
        "updated_at": row.sent_at,
        "sent_at": row.sent_at if row.state == ContactState.SENT else None,
        "next_attempt_at": None,
        "attempts": 0,
        "remote_id": None,
        "reason": "imported",
    }


def _batches(
    path: str | Path, summary: ImportSummary, directory: CustomerDirectory
) -> Iterator[tuple[list[PastContact], int, int]]:
    batch: list[PastContact] = []
    with open_source(path, REQUIRED) as source:
        for line, cells in source.rows():
            summary.read += 1
            if isinstance(cells, str):
                summary.reject(line, cells)
                continue
            try:
                batch.append(parse_row(line, cells, directory))
            except v.RowError as exc:
                summary.reject(line, str(exc))
                continue
            if len(batch) >= BATCH_ROWS:
                yield batch, source.bytes_read, source.size
                batch = []
        if batch:
            yield batch, source.bytes_read, source.size


def import_contacts(
    db: Database,
    path: str | Path,
    *,
    on_problem: OnProblem | None = None,
    on_progress: OnProgress | None = None,
) -> ImportSummary:
    """Import a past-contacts CSV/JSONL file; bad rows are reported and skipped."""
    summary = ImportSummary(str(path), on_problem=on_problem)
    directory = CustomerDirectory.load(db)
    for batch, done, size in _batches(path, summary, directory):
        # Enrolments of one batch are created in file order, so sort by time first:
        # the earliest step of an enrolment makes it, later ones move it on.
        batch.sort(key=lambda r: (r.customer_id, r.cadence, r.enrolled_at, r.sent_at))
        with db.write() as session:
            _Writer(db, session, summary).write(batch)
        if on_progress is not None:
            on_progress(done, size)
    return summary
