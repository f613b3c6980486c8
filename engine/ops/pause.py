"""The emergency stop: `rapport pause [--cadence NAME]` / `rapport resume [--cadence NAME]`.

A pause is a row in operator_pauses (cadence "*" = all sending). It is kept in the
database because the command runs in another process than the daemon, and because a pause
must outlive a restart. Delivery asks `is_paused` before each HTTP call (the `paused`
hook of `engine.delivery.outbox.deliver_due`), so a request already in flight finishes
and nothing new leaves. Evaluation is not paused: it goes on planning, and resuming
sends what is still within its step's `expires` (what expired meanwhile is expired).

The daemon calls: `deliver_due(..., paused=paused_hook(db))`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.history.db import Database
from engine.history.models import OperatorPause

ALL = "*"  # not a possible cadence slug: the pause of all sending


def is_paused(session: Session, cadence: str) -> bool:
    """Is sending `cadence`'s messages paused, by its own pause or the global one?"""
    found = session.scalar(
        select(OperatorPause.cadence).where(OperatorPause.cadence.in_([ALL, cadence])).limit(1)
    )
    return found is not None


def paused_hook(db: Database) -> Callable[[str], bool]:
    """`deliver_due`'s `paused` callable: one short read before each message, so a pause
    taken while a pass runs stops it before its next HTTP call."""

    def paused(cadence: str) -> bool:
        with db.read() as session:
            return is_paused(session, cadence)

    return paused


def pause(db: Database, *, cadence: str | None, now: datetime) -> bool:
    """Pause all sending (cadence None) or one cadence's. False: it was already paused."""
    key = cadence or ALL
    with db.write() as session:
        if session.get(OperatorPause, key) is not None:
            return False
        session.add(OperatorPause(cadence=key, paused_at=now))
        return True


def resume(db: Database, *, cadence: str | None) -> bool:
    """Lift the global pause (cadence None) or one cadence's. False: it was not paused."""
    with db.write() as session:
        result = session.execute(
            delete(OperatorPause).where(OperatorPause.cadence == (cadence or ALL))
        )
        return bool(getattr(result, "rowcount", 0))


def pauses(db: Database) -> dict[str, datetime]:
    """Every pause in force: cadence (or "*") → since when."""
    with db.read() as session:
        rows = session.execute(select(OperatorPause.cadence, OperatorPause.paused_at))
        return {cadence: since for cadence, since in rows}
