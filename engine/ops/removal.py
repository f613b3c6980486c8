"""Removed cadences: when a cadence's file leaves rules/, what it had queued is withdrawn.

A cadence is removed when it went live once (cadence_launches, written by the first
evaluation that saw it) and the current, valid strategy no longer has it. Its queued
messages (`planned`, `pending_review`, `approved`) become `cancelled` with reason
`cadence_removed`, and its ongoing enrolments end (`exited`; a held-out enrolment keeps
`held_out` and gets its end time, as every ended control does). Restoring the file does
not bring them back: cancelled is final, the idempotency key keeps the same occurrence
from being planned again, and an ended enrolment stays ended (a new one needs a new
trigger, under the cadence's `reentry`).

Only a valid strategy is ever passed here (loading refuses invalid rules), so a file
half-written by an editor, which makes the rules invalid, never cancels anything.

Called at the start of each writing evaluation: `run --once` (engine/modes/runner.py),
and the daemon at start and after each hot reload:
`cancel_removed_cadences(db, strategy, now=now)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from engine.history.db import Database
from engine.history.models import CadenceLaunch, Contact, Enrolment
from engine.ledger.withdraw import cancel_queued, end_ongoing
from engine.strategy.model import Strategy

REASON = "cadence_removed"


@dataclass
class Removal:
    cadences: list[str] = field(default_factory=list)
    cancelled: int = 0  # messages cancelled
    ended: int = 0  # enrolments


def removed_cadences(db: Database, strategy: Strategy) -> list[str]:
    """Cadences that went live once and are not in `strategy`."""
    current = {cadence.name for cadence in strategy.cadences}
    with db.read() as session:
        launched = session.scalars(select(CadenceLaunch.cadence)).all()
    return sorted(set(launched) - current)


def cancel_removed_cadences(db: Database, strategy: Strategy, *, now: datetime) -> Removal:
    """Cancel the queued messages and end the ongoing enrolments of every removed cadence,
    in one transaction. Cheap when nothing was removed (one read)."""
    removal = Removal(cadences=removed_cadences(db, strategy))
    if not removal.cadences:
        return removal
    with db.write() as session:
        removed = Contact.cadence.in_(removal.cadences)
        removal.cancelled = cancel_queued(session, removed, reason=REASON, at=now)
        removal.ended = end_ongoing(session, Enrolment.cadence.in_(removal.cadences), now=now)
    return removal
