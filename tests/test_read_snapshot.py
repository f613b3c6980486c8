"""Read-only commands read ONE consistent snapshot, however long they take and whoever
writes meanwhile (real SQLite file in WAL mode, a second real connection writing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evaluation_helpers import ONE_STEP, STARTS, World, at, cadence, write_project
from sqlalchemy import event, func, select

from engine.history.db import Database
from engine.history.models import Customer
from engine.modes import EvaluationOptions, preview, run_once
from engine.modes.explain import explain

pytestmark = pytest.mark.backends

CUSTOMERS = 6


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    rules = {"w": cadence("w", "when: count(purchase) >= 1", ONE_STEP, STARTS)}
    w = World(db, write_project(tmp_path / "project", rules))
    for n in range(CUSTOMERS):
        w.event(w.customer(f"c{n}"), "purchase", at(-1), amount=30)
    return w


@pytest.fixture
def writer(db_url: str) -> Iterator[Database]:
    """Another connection pool on the same file: another process, as far as SQLite knows."""
    other = Database.open(db_url, upgrade=False)
    yield other
    other.dispose()


def customers(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_reads_inside_a_snapshot_do_not_see_later_commits(db: Database, writer: Database) -> None:
    with db.snapshot():
        assert customers(db) == 0
        with writer.write() as session:
            session.add(Customer(external_id="late", kind="customer", attributes={}))
        assert customers(db) == 0
        assert customers(writer) == 1
    assert customers(db) == 1


def run_between_batches(world: World, writer: Database) -> None:
    """A real `run --once` commits while the preview is between two batches of customers."""
    pages = 0

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal pages
        if "FROM customers" in statement and "customers.id >" in statement:
            pages += 1
            if pages == 2:
                run_once(writer, world.settings, now=at(0))

    event.listen(world.db.engine, "before_cursor_execute", on_execute)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_preview_is_not_a_mix_of_before_and_after_a_run(
    world: World, writer: Database, workers: int
) -> None:
    run_between_batches(world, writer)
    options = EvaluationOptions(batch_size=2, workers=workers)
    _, sink = preview(world.db, world.settings, now=at(0), options=options)
    assert len(sink.changes.contacts) == CUSTOMERS  # everything as before the run
    assert len(world.contacts()) == CUSTOMERS  # and the run did write meanwhile


def test_explain_reads_one_snapshot(world: World, writer: Database) -> None:
    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM cadence_launches" in statement and not world.contacts():
            run_once(writer, world.settings, now=at(0))

    event.listen(world.db.engine, "before_cursor_execute", on_execute)
    lines = explain(world.db, world.settings, "c0", now=at(0))
    assert "  step only: planned — sent_to_outbox (review: t.j2)" in lines, lines
