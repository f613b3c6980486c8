"""events.seq: assigned by the database, unique, safe with concurrent writers

`seq` is the "new events since" watermark of incremental evaluation. The importer used to
compute it as max(seq) + n, which is safe only while writers are serialised: on SQLite they
are (BEGIN IMMEDIATE), on PostgreSQL two importers read the same max and share numbers.

- PostgreSQL: a sequence `events_seq_seq` feeds the column's default, and a statement-level
  trigger makes every transaction that inserts events hold a shared advisory lock on
  `EVENTS_WRITER_LOCK_KEY` until it ends. Writers never wait for each other; a reader that
  takes the same key exclusively (engine/history/event_seq.py) waits out the writers in
  flight and so learns a seq below which nothing can still commit.
- SQLite: writes are serialised, so max(seq) + 1 stays monotonic; a trigger numbers any
  row inserted without a seq (the importer's fast path numbers its rows itself).
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

POSTGRES_LOCK_FUNCTION = f"""
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


def upgrade() -> None:
    _renumber_duplicates()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE events ALTER COLUMN seq TYPE BIGINT")
        op.execute("CREATE SEQUENCE events_seq_seq AS BIGINT OWNED BY events.seq")
        op.execute("SELECT setval('events_seq_seq', coalesce(max(seq), 0) + 1, false) FROM events")
        op.execute("ALTER TABLE events ALTER COLUMN seq SET DEFAULT nextval('events_seq_seq')")
        op.execute(POSTGRES_LOCK_FUNCTION)
        op.execute(
            "CREATE TRIGGER events_writer_lock BEFORE INSERT ON events"
            " FOR EACH STATEMENT EXECUTE FUNCTION events_writer_lock()"
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        if op.get_bind().dialect.name == "sqlite":
            batch_op.alter_column("seq", existing_type=sa.Integer(), server_default="0")
        batch_op.drop_index("ix_events_seq")
        batch_op.create_index("ix_events_seq", ["seq"], unique=True)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_TRIGGER)  # after the batch: rebuilding the table drops its triggers


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER events_seq_numbering")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_seq")
        batch_op.create_index("ix_events_seq", ["seq"], unique=False)
        if op.get_bind().dialect.name == "sqlite":
            batch_op.alter_column("seq", existing_type=sa.Integer(), server_default=None)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER events_writer_lock ON events")
        op.execute("DROP FUNCTION events_writer_lock()")
        op.execute("ALTER TABLE events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE events_seq_seq")
        op.execute("ALTER TABLE events ALTER COLUMN seq TYPE INTEGER")
