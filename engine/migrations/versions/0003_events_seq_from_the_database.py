"""events.seq: assigned by the database, unique, safe with concurrent writers

`seq` is the "new events since" watermark of incremental evaluation. The importer used to
compute it as max(seq) + n, which is safe only while writers are serialised: on SQLite they
are (BEGIN IMMEDIATE), on PostgreSQL two importers read the same max and share numbers.

A row inserted with seq 0 (the model's default) or without one is numbered by the database:
- PostgreSQL: a sequence `events_seq_seq` (the column's default; a row trigger replaces a
  0 by its next value), and a statement trigger that makes every transaction inserting
  events hold a shared advisory lock on EVENTS_WRITER_LOCK_KEY until it ends. Writers never
  wait for each other; a reader that takes the same key exclusively
  (engine/history/event_seq.py) waits out the writers in flight and so learns a seq below
  which nothing can still commit.
- SQLite: writes are serialised, so max(seq) + 1 stays monotonic; a trigger numbers a row
  inserted with 0 (the importer's fast path numbers its rows itself, under the write lock).
- Both: a unique index on seq; existing duplicates are renumbered in (seq, id) order.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Same value as engine.history.event_seq.EVENTS_WRITER_LOCK_KEY (a migration must not change
# when the code moves on, so the number is written out here).
EVENTS_WRITER_LOCK_KEY = 0x5241_5050_4556_5400  # "RAPPEVT\0"

SQLITE_TRIGGER = """
CREATE TRIGGER events_seq_numbering AFTER INSERT ON events
WHEN NEW.seq = 0
BEGIN
    UPDATE events SET seq = (SELECT max(seq) FROM events) + 1 WHERE id = NEW.id;
END
"""

POSTGRES_NUMBERING = """
CREATE FUNCTION events_seq_numbering() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq = 0 THEN
        NEW.seq := nextval('events_seq_seq');
    END IF;
    RETURN NEW;
END
$$
"""

POSTGRES_WRITER_LOCK = f"""
CREATE FUNCTION events_writer_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({EVENTS_WRITER_LOCK_KEY});
    RETURN NULL;
END
$$
"""


def _renumber_duplicates() -> None:
    connection = op.get_bind()
    duplicated = connection.scalar(
        sa.text("SELECT count(*) FROM (SELECT seq FROM events GROUP BY seq HAVING count(*) > 1) d")
    )
    if not duplicated:
        return
    ids = connection.scalars(sa.text("SELECT id FROM events ORDER BY seq, id")).all()
    connection.execute(
        sa.text("UPDATE events SET seq = :seq WHERE id = :id"),
        [{"seq": n, "id": pk} for n, pk in enumerate(ids, start=1)],
    )


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    _renumber_duplicates()
    # Plain index statements, no batch: rebuilding `events` on SQLite would trip the
    # foreign keys of the rows that point into it.
    op.drop_index("ix_events_seq", table_name="events")
    op.create_index("ix_events_seq", "events", ["seq"], unique=True)
    if not _is_postgres():
        op.execute(SQLITE_TRIGGER)
        return
    op.execute("ALTER TABLE events ALTER COLUMN seq TYPE BIGINT")
    op.execute("CREATE SEQUENCE events_seq_seq AS BIGINT OWNED BY events.seq")
    op.execute("SELECT setval('events_seq_seq', coalesce(max(seq), 0) + 1, false) FROM events")
    op.execute("ALTER TABLE events ALTER COLUMN seq SET DEFAULT nextval('events_seq_seq')")
    op.execute(POSTGRES_NUMBERING)
    op.execute(
        "CREATE TRIGGER events_seq_numbering BEFORE INSERT ON events"
        " FOR EACH ROW EXECUTE FUNCTION events_seq_numbering()"
    )
    op.execute(POSTGRES_WRITER_LOCK)
    op.execute(
        "CREATE TRIGGER events_writer_lock BEFORE INSERT ON events"
        " FOR EACH STATEMENT EXECUTE FUNCTION events_writer_lock()"
    )


def downgrade() -> None:
    if _is_postgres():
        op.execute("DROP TRIGGER events_writer_lock ON events")
        op.execute("DROP FUNCTION events_writer_lock()")
        op.execute("DROP TRIGGER events_seq_numbering ON events")
        op.execute("DROP FUNCTION events_seq_numbering()")
        op.execute("ALTER TABLE events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE events_seq_seq")
        op.execute("ALTER TABLE events ALTER COLUMN seq TYPE INTEGER")
    else:
        op.execute("DROP TRIGGER events_seq_numbering")
    op.drop_index("ix_events_seq", table_name="events")
    op.create_index("ix_events_seq", "events", ["seq"], unique=False)
