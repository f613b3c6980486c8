"""`rapport simulate`: real evaluations at --start, --start + every, … on a copy of the data.

The copy is a temporary SQLite file with the stored history and a fresh, simulated
ledger (enrolments, contacts, decisions, go-lives and event-made suppressions cleared),
so each evaluation sees only events up to its time and the contacts planned by the
evaluations before it. The user's database is never written.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.config import Settings
from engine.errors import RapportError
from engine.evaluation.records import Changes, DecisionRecord
from engine.evaluation.summary import Summary
from engine.history.db import Database
from engine.ledger.sinks import DatabaseSink, RecordingSink
from engine.modes.runner import EvaluationOptions, evaluate_at
from engine.strategy import load_strategy

SIMULATED_TABLES = ("decisions", "contacts", "enrolments", "runs", "cadence_launches")


class SimulationSink(DatabaseSink):
    """Writes to the copy (so later evaluations see earlier ones) and keeps the decisions."""

    def __init__(self, db: Database, recorder: RecordingSink) -> None:
        super().__init__(db)
        self.recorder = recorder

    def apply(self, changes: Changes) -> None:
        super().apply(changes)
        self.recorder.apply(Changes(decisions=changes.decisions))


@contextmanager
def scratch_copy(db: Database) -> Iterator[Database]:
    if not db.is_sqlite:
        raise RapportError("simulate works on SQLite databases", hint="copy the data to SQLite")
    source = make_url(db.url).database
    if not source or source == ":memory:":
        raise RapportError("simulate needs a database file")
    with db.engine.connect() as connection:  # fold the WAL into the file we copy
        connection.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    with tempfile.TemporaryDirectory(prefix="rapport-simulate-") as folder:
        copy = Path(folder) / "simulation.db"
        shutil.copy(source, copy)
        scratch = Database.open(f"sqlite:///{copy}")
        try:
            with scratch.write() as session:
                for table in SIMULATED_TABLES:
                    session.execute(text(f"DELETE FROM {table}"))
                session.execute(text("DELETE FROM suppressions WHERE source_event_id IS NOT NULL"))
            yield scratch
        finally:
            scratch.dispose()


def simulate(
    db: Database,
    settings: Settings,
    *,
    start: datetime,
    end: datetime,
    every: timedelta,
) -> tuple[list[Summary], list[DecisionRecord]]:
    """Every decision of every evaluation from `start` to `end` (planned ones are messages)."""
    if every <= timedelta(0):
        raise RapportError("--every must be longer than 0s")
    if end < start:
        raise RapportError("--end is before --start")
    strategy = load_strategy(settings.rules_dir, templates_dir=settings.templates_dir)
    recorder = RecordingSink()
    summaries = []
    with scratch_copy(db) as scratch:
        now = start
        while now <= end:
            sink = SimulationSink(scratch, recorder)
            summaries.append(
                evaluate_at(
                    scratch,
                    settings,
                    now=now,
                    sink=sink,
                    mode="simulate",
                    options=EvaluationOptions(strategy=strategy),
                )
            )
            now += every
    return summaries, recorder.changes.decisions
