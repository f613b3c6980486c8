"""A full pass on several processes writes exactly what a one-process pass writes.

The sample project (repository rules, templates and config) over synthetic history, with
small batches so that several workers really share the work.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from postgres_server import PostgresServer
from sqlalchemy import select

from engine.config import load_settings
from engine.demo_data import DemoFiles, write_files
from engine.history.db import Database
from engine.history.importing import import_customers, import_events
from engine.history.models import Contact, Decision, Enrolment
from engine.modes import DatabaseSink, EvaluationOptions, RecordingSink, evaluate_at
from engine.modes.output import as_json, preview_rows

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 6, 15, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return write_files(tmp_path_factory.mktemp("parallel"), customers=300, seed=11, end=NOW)


@pytest.fixture(scope="module")
def demo_db(demo_files: DemoFiles) -> Path:
    path = demo_files.customers_file.parent / "base.db"
    db = Database.open(f"sqlite:///{path}")
    _import(db, demo_files)
    db.dispose()
    return path


def _import(db: Database, files: DemoFiles) -> None:
    import_customers(db, files.customers_file)
    import_events(db, files.events_file)


def _copy(source: Path, target: Path) -> Database:
    shutil.copy(source, target)
    return Database.open(f"sqlite:///{target}", upgrade=False)


@pytest.fixture
def fresh_demo_db(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], Database]]:
    """A new database holding the demo history on each call (a name for SQLite files)."""
    if backend == "sqlite":
        demo_db: Path = request.getfixturevalue("demo_db")
        yield lambda name: _copy(demo_db, tmp_path / f"{name}.db")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    files: DemoFiles = request.getfixturevalue("demo_files")
    made: list[tuple[str, Database]] = []

    def make(_name: str) -> Database:
        name = server.clone()
        db = Database.open(server.database_url(name), upgrade=False)
        made.append((name, db))
        _import(db, files)
        return db

    yield make
    for name, db in made:
        db.dispose()
        server.drop(name)


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


@pytest.mark.backends
def test_parallel_run_writes_what_one_process_writes(
    fresh_demo_db: Callable[[str], Database],
) -> None:
    settings = load_settings(ROOT / "config.yaml")
    tables = []
    for workers in (1, 2):
        db = fresh_demo_db(f"run{workers}")
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
