"""Migrations on existing data, on SQLite and PostgreSQL: up from the older revision, down,
and up again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from engine.history.db import Database
from engine.history.migrate import alembic_config, upgrade

pytestmark = pytest.mark.backends

INSERT_CUSTOMER = (
    "INSERT INTO customers (id, external_id, kind, attributes, created_at, updated_at)"
    " VALUES (1, 'c1', 'customer', '{}', '2026-01-01', '2026-01-01')"
)
INSERT_EVENT = (
    "INSERT INTO events (customer_id, type, occurred_at, properties, external_id, source, seq)"
    " VALUES (1, 'visit', '2026-03-01', '{}', :external_id, 'import', :seq)"
)

INSERT_ENROLMENT = (
    "INSERT INTO enrolments (customer_id, cadence, entered_at, trigger_event_id, step_reached,"
    " state, rules_version) VALUES (1, 'p', '2026-03-01', 2, 1, 'active', 'v')"
)


def downgrade(db: Database, revision: str) -> None:
    config = alembic_config(db)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def seqs(db: Database) -> list[tuple[str, int]]:
    with db.read() as session:
        rows = session.execute(text("SELECT external_id, seq FROM events ORDER BY id"))
        return [(external_id, seq) for external_id, seq in rows]


def test_migration_0003_renumbers_shared_seqs_and_numbers_new_rows(fresh_db_url: str) -> None:
    """Before 0003, two PostgreSQL importers could give their rows the same seq."""
    db = Database.open(fresh_db_url, upgrade=False)
    try:
        upgrade(db, "0002")
        with db.write() as session:
            session.execute(text(INSERT_CUSTOMER))
            for external_id, seq in (("a", 1), ("b", 2), ("c", 2), ("d", 3)):
                session.execute(text(INSERT_EVENT), {"external_id": external_id, "seq": seq})
            session.execute(text(INSERT_ENROLMENT))  # a row that points into events
        upgrade(db)
        assert seqs(db) == [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
        with db.write() as session:  # a row inserted with seq 0 gets the next one
            session.execute(text(INSERT_EVENT), {"external_id": "e", "seq": 0})
        assert seqs(db)[-1] == ("e", 5)
        downgrade(db, "0002")
        upgrade(db)
        assert [seq for _, seq in seqs(db)] == [1, 2, 3, 4, 5]
    finally:
        db.dispose()
