"""A full pass on several processes writes exactly what a one-process pass writes.

The sample project (repository rules, templates and config) over synthetic history, with
small batches so that several workers really share the work.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.config import load_settings
from engine.demo_data import write_files
from engine.history.db import Database
from engine.history.importing import import_customers, import_events
from engine.history.models import Contact, Decision, Enrolment
from engine.modes import DatabaseSink, EvaluationOptions, RecordingSink, evaluate_at
from engine.modes.output import as_json, preview_rows

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 6, 15, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("parallel")
    files = write_files(folder, customers=300, seed=11, end=NOW)
    db = Database.open(f"sqlite:///{folder / 'base.db'}")
    import_customers(db, files.customers_file)
    import_events(db, files.events_file)
    db.dispose()
    return folder / "base.db"


def _copy(source: Path, target: Path) -> Database:
    shutil.copy(source, target)
    return Database.open(f"sqlite:///{target}", upgrade=False)


def test_parallel_preview_equals_one_process(demo_db: Path, tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config.yaml")
    db = _copy(demo_db, tmp_path / "p.db")
    outputs = []
    for workers in (1, 2):
        sink = RecordingSink()
        summary = evaluate_at(
            db,
            settings,
            now=NOW,
            sink=sink,
            mode="preview",
            options=EvaluationOptions(batch_size=40, workers=workers),
        )
        outputs.append(
            (summary.as_dict(), as_json(preview_rows(sink.changes.decisions, include_all=True)))
        )
    assert outputs[0][0]["evaluated"] == 300
    assert outputs[0] == outputs[1]


def test_parallel_run_writes_what_one_process_writes(demo_db: Path, tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config.yaml")
    tables = []
    for workers in (1, 2):
        db = _copy(demo_db, tmp_path / f"run{workers}.db")
        evaluate_at(
            db,
            settings,
            now=NOW,
            sink=DatabaseSink(db),
            mode="run",
            options=EvaluationOptions(batch_size=40, workers=workers),
        )
        with db.read() as session:
            contacts = session.execute(
                select(
                    Contact.idempotency_key, Contact.text, Contact.channel, Contact.state
                ).order_by(Contact.idempotency_key)
            ).all()
            enrolments = session.execute(
                select(Enrolment.customer_id, Enrolment.cadence, Enrolment.entered_at,
                       Enrolment.state, Enrolment.step_reached)
                .order_by(Enrolment.customer_id, Enrolment.cadence)
            ).all()  # fmt: skip
            decisions = session.execute(
                select(Decision.customer_id, Decision.cadence, Decision.step, Decision.outcome,
                       Decision.reason)
                .order_by(Decision.id)
            ).all()  # fmt: skip
        tables.append((contacts, enrolments, decisions))
        db.dispose()
    assert tables[0][0], "the sample should plan some messages"
    assert tables[0] == tables[1]
