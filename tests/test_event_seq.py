"""events.seq under concurrent writers: unique, and a watermark reader that follows
engine/history/event_seq.py misses no event, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.history.db import Database
from engine.history.event_seq import seq_horizon
from engine.history.importing import import_customers, import_events
from engine.history.models import Customer, Event

pytestmark = pytest.mark.backends

WRITERS = 4
FILES_PER_WRITER = 12 if os.environ.get("CI") == "true" else 4
EVENTS_PER_FILE = 50  # one file is one import transaction


def event_files(tmp_path: Path, writer: int) -> list[Path]:
    paths = []
    for number in range(FILES_PER_WRITER):
        path = tmp_path / f"w{writer}-{number}.csv"
        rows = "".join(
            f"c1,visit,2026-03-01T00:00:{i % 60:02d}Z,w{writer}-{number}-{i}\n"
            for i in range(EVENTS_PER_FILE)
        )
        path.write_text("customer_id,type,occurred_at,id\n" + rows, encoding="utf-8")
        paths.append(path)
    return paths


def write_all(db_url: str, paths: list[Path]) -> int:
    db = Database.open(db_url, upgrade=False)
    try:
        return sum(import_events(db, path).inserted for path in paths)
    finally:
        db.dispose()


def follow_watermark(db_url: str, writers_done: threading.Event) -> list[int]:
    """The incremental reader's loop: read (watermark, horizon], move to the horizon."""
    db = Database.open(db_url, upgrade=False)
    seen: list[int] = []
    watermark = 0
    try:
        while True:
            last_round = writers_done.is_set()
            horizon = seq_horizon(db)
            with db.read() as session:
                seen += session.scalars(
                    select(Event.seq).where(Event.seq > watermark, Event.seq <= horizon)
                ).all()
            watermark = horizon
            if last_round:
                return seen
    finally:
        db.dispose()


def test_concurrent_importers_get_unique_seqs_and_a_watermark_reader_sees_every_event(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "c.csv").write_text("id\nc1\n", encoding="utf-8")
    import_customers(db, tmp_path / "c.csv")
    files = [event_files(tmp_path, writer) for writer in range(WRITERS)]
    writers_done = threading.Event()
    with ThreadPoolExecutor(WRITERS + 1) as pool:
        reader = pool.submit(follow_watermark, db_url, writers_done)
        writers = [pool.submit(write_all, db_url, paths) for paths in files]
        inserted = sum(w.result() for w in writers)
        writers_done.set()
        seen = reader.result()
    with db.read() as session:
        stored = session.scalars(select(Event.seq)).all()
    assert inserted == len(stored) == WRITERS * FILES_PER_WRITER * EVENTS_PER_FILE
    assert len(set(stored)) == len(stored)
    assert sorted(seen) == sorted(stored)  # nothing committed below the watermark after it moved


def test_rows_inserted_without_a_seq_are_numbered_after_the_rest(db: Database) -> None:
    """Writers other than the importer (the ORM, a future ingestion) get seqs too."""
    with db.write() as session:
        customer = Customer(external_id="c1", attributes={})
        session.add(customer)
        session.flush()
        for n in range(3):
            session.add(
                Event(
                    customer_id=customer.id,
                    type="visit",
                    occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
                    properties={},
                    external_id=f"e{n}",
                )
            )
    with db.read() as session:
        seqs = session.scalars(select(Event.seq).order_by(Event.id)).all()
        top = session.scalar(select(func.max(Event.seq)))
    assert seqs == sorted(seqs) and len(set(seqs)) == 3 and seqs[0] >= 1
    assert seq_horizon(db) == top


def insert_event(db: Database, external_id: str) -> None:
    with db.write() as session:
        session.add(event_row(session, external_id))


def event_row(session: Session, external_id: str) -> Event:
    customer_id = session.scalar(select(Customer.id).where(Customer.external_id == "c1"))
    assert customer_id is not None
    return Event(
        customer_id=customer_id,
        type="visit",
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        properties={},
        external_id=external_id,
    )


@pytest.mark.backends("postgres")  # SQLite writers are serialised: nothing commits out of order
def test_the_horizon_waits_for_a_seq_that_commits_after_a_larger_one(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "c.csv").write_text("id\nc1\n", encoding="utf-8")
    import_customers(db, tmp_path / "c.csv")
    insert_event(db, "before")
    drawn, fast_committed = threading.Event(), threading.Event()

    def slow_writer() -> None:
        other = Database.open(db_url, upgrade=False)
        try:
            with other.write() as session:
                session.add(event_row(session, "slow"))
                session.flush()  # the seq is drawn; the commit comes later
                drawn.set()
                fast_committed.wait(timeout=30)
        finally:
            other.dispose()

    seen: list[str] = []

    def reader() -> None:
        horizon = seq_horizon(db)
        with db.read() as session:
            seen.extend(session.scalars(select(Event.external_id).where(Event.seq <= horizon)))

    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(slow_writer)
        assert drawn.wait(timeout=30)
        insert_event(db, "fast")  # a larger seq, committed first
        looking = pool.submit(reader)
        with pytest.raises(TimeoutError):  # a reader that did not wait would be done by now
            looking.result(timeout=1)
        fast_committed.set()
        slow.result()
        looking.result()
    assert sorted(seen) == ["before", "fast", "slow"]
