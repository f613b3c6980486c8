"""Where an evaluation's changes go: the database (run) or memory (preview, explain).

Both sinks receive the very same `Changes`; a dry run differs from a real one only by
its sink. The database sink applies one batch in ONE writing transaction
(BEGIN IMMEDIATE on SQLite): enrolment changes and the contacts they produce commit or
fail together, and the ledger's unique idempotency key is the last guard against a
duplicate (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine import clock
from engine.evaluation.records import Changes, EnrolmentRecord
from engine.history.db import Database
from engine.history.models import (
    CadenceLaunch,
    Contact,
    Decision,
    Enrolment,
    Run,
    StepResolution,
    Suppression,
)
from engine.ledger.withdraw import withdraw_queued


class Sink(Protocol):
    def begin(self, now: datetime, mode: str, rules_hash: str) -> None: ...

    def apply(self, changes: Changes) -> None: ...

    def finish(self, counts: dict[str, Any]) -> None: ...


class RecordingSink:
    """Keeps every change in memory and writes nothing (preview, explain, tests)."""

    def __init__(self) -> None:
        self.changes = Changes()
        self.counts: dict[str, Any] = {}
        self.run_id: int | None = None

    def begin(self, now: datetime, mode: str, rules_hash: str) -> None:
        self.now, self.mode = now, mode

    def apply(self, changes: Changes) -> None:
        self.changes.extend(changes)

    def finish(self, counts: dict[str, Any]) -> None:
        self.counts = counts


class DatabaseSink:
    """Writes a run row, then each batch's changes in one transaction.

    Decisions older than `keep_decisions` (`retention.decisions` in config.yaml) are
    deleted when the run finishes; every evaluation records one per waiting step, so
    without pruning a daemon's table would grow without bound.
    """

    def __init__(self, db: Database, *, keep_decisions: timedelta | None = None) -> None:
        self.db = db
        self.keep_decisions = keep_decisions
        self.run_id: int | None = None

    def begin(self, now: datetime, mode: str, rules_hash: str) -> None:
        self.now = now
        with self.db.write() as session:
            run = Run(mode=mode, rules_hash=rules_hash, evaluated_at=now, counts={})
            session.add(run)
            session.flush()
            self.run_id = run.id

    def apply(self, changes: Changes) -> None:
        with self.db.write() as session:
            self._launches(session, changes)
            self._enrolments(session, changes)
            self._contacts(session, changes)
            self._resolutions(session, changes)
            self._suppressions(session, changes)
            for w in changes.withdrawals:  # with the suppression that causes it, not later
                withdraw_queued(
                    session, w.customer_id, reason=w.reason, at=w.at, planned_up_to=w.planned_up_to
                )
            self._decisions(session, changes)

    def finish(self, counts: dict[str, Any]) -> None:
        with self.db.write() as session:
            session.execute(
                update(Run)
                .where(Run.id == self.run_id)
                .values(finished_at=clock.now(), counts=counts)
            )
            if self.keep_decisions is not None:
                oldest = self.now - self.keep_decisions
                session.execute(delete(Decision).where(Decision.decided_at < oldest))

    def _insert(self, model: Any) -> Any:
        dialect = sqlite if self.db.is_sqlite else postgresql
        return dialect.insert(_table(model))

    def _launches(self, session: Session, changes: Changes) -> None:
        if changes.launches:
            rows = [{"cadence": c, "first_seen_at": t} for c, t in changes.launches.items()]
            session.execute(self._insert(CadenceLaunch).on_conflict_do_nothing(), rows)

    def _enrolments(self, session: Session, changes: Changes) -> None:
        table = _table(Enrolment)
        if changes.new_enrolments:
            rows = [_enrolment_row(e) for e in changes.new_enrolments]
            if self.db.is_sqlite:
                # BEGIN IMMEDIATE holds the write lock: nobody else can take these ids, and
                # a plain executemany is far faster than one INSERT … RETURNING per row.
                first = (session.scalar(select(func.max(Enrolment.id))) or 0) + 1
                ids = list(range(first, first + len(rows)))
                session.execute(
                    insert(table), [{"id": i, **r} for i, r in zip(ids, rows, strict=True)]
                )
            else:
                returning = insert(Enrolment).returning(Enrolment.id, sort_by_parameter_order=True)
                ids = list(session.scalars(returning, rows).all())
            for enrolment, new_id in zip(changes.new_enrolments, ids, strict=True):
                enrolment.id = new_id
        if changes.enrolment_updates:
            rows = [{"key": e.id, **_enrolment_row(e)} for e in changes.enrolment_updates]
            statement = update(table).where(table.c.id == bindparam("key"))
            session.execute(statement, rows)

    def _contacts(self, session: Session, changes: Changes) -> None:
        if not changes.contacts:
            return
        rows = [
            {
                "customer_id": c.customer_id,
                "enrolment_id": c.enrolment.id,
                "cadence": c.cadence,
                "step": c.step,
                "variant": c.variant,
                "idempotency_key": c.idempotency_key,
                "text": c.text,
                "channel": c.channel.value,
                "state": c.state.value,
                "in_reply_to": c.in_reply_to,
                "planned_at": c.planned_at,
                "updated_at": c.planned_at,
                "attempts": 0,
            }
            for c in changes.contacts
        ]
        statement = self._insert(Contact).on_conflict_do_nothing(index_elements=["idempotency_key"])
        session.execute(statement, rows)

    def _resolutions(self, session: Session, changes: Changes) -> None:
        """Every step's resolution time, held-out ones included (measurement reads them;
        caps and delivery never do)."""
        if not changes.resolutions:
            return
        rows = [
            {
                "enrolment_id": r.enrolment.id,
                "customer_id": r.enrolment.customer_id,
                "cadence": r.enrolment.cadence,
                "step": r.step,
                "arm": r.arm,
                "outcome": r.outcome,
                "resolved_at": r.resolved_at,
            }
            for r in changes.resolutions
        ]
        statement = self._insert(StepResolution).on_conflict_do_nothing(
            index_elements=["enrolment_id", "step"]
        )
        session.execute(statement, rows)

    def _suppressions(self, session: Session, changes: Changes) -> None:
        if not changes.suppressions:
            return
        rows = [
            {
                "customer_id": s.customer_id,
                "handle_key": s.handle_key,
                "reason": s.reason,
                "created_at": s.created_at,
                "until": s.until,
                "source_event_id": s.source_event_id,
            }
            for s in changes.suppressions
        ]
        statement = self._insert(Suppression).on_conflict_do_nothing(
            index_elements=["source_event_id"]
        )
        session.execute(statement, rows)

    def _decisions(self, session: Session, changes: Changes) -> None:
        if not changes.decisions:
            return
        rows = [
            {
                "run_id": self.run_id,
                "customer_id": d.customer_id,
                "cadence": d.cadence,
                "step": d.step,
                "outcome": d.outcome.value,
                "reason": d.reason.value,
                "detail": d.detail,
                "decided_at": d.decided_at,
            }
            for d in changes.decisions
        ]
        session.execute(insert(_table(Decision)), rows)


def _table(model: Any) -> Table:
    """The Core table of a model: executemany on it skips the ORM's per-row work."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _enrolment_row(enrolment: EnrolmentRecord) -> dict[str, Any]:
    return {
        "customer_id": enrolment.customer_id,
        "cadence": enrolment.cadence,
        "entered_at": enrolment.entered_at,
        "trigger_event_id": enrolment.trigger_event_id,
        "step_reached": enrolment.step_reached,
        "last_resolved_at": enrolment.last_resolved_at,
        "state": enrolment.state.value,
        "ended_at": enrolment.ended_at,
        "rules_version": enrolment.rules_version,
        "last_step": enrolment.last_step,
    }
