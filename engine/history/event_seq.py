"""`events.seq` as a watermark: how a reader learns which events it has surely seen.

Every event gets a `seq` from the database when it is inserted (migration 0003): a
sequence on PostgreSQL, max + 1 under the write lock on SQLite. Seqs are unique and
increase in insertion order, with gaps (a duplicate skipped by an import, a rolled-back
batch). Incremental evaluation keeps a watermark W and evaluates the customers of the
events with seq > W.

The trap is that on PostgreSQL seqs do not *commit* in order. Two importers run at once:
A draws 101–200, B draws 201–300, B commits first. A reader that sees 201–300 and moves W
to 300 never sees 101–200, which commit a moment later with seqs below its watermark: those
customers would never be evaluated for those events. So a reader must never advance W to
the largest seq it happened to see. It advances W to `seq_horizon()` instead, a seq at or
below which nothing can still commit:

    horizon = seq_horizon(db)       # first, in its own short transaction
    with db.read() as session:      # then a snapshot taken after it
        new = events with W < seq <= horizon
    ... evaluate their customers ...
    W = horizon                     # events above the horizon wait for the next tick

How the horizon is known ("committed below" by waiting out the writers in flight):

- PostgreSQL: a statement trigger on `events` (migration 0003) makes every transaction that
  inserts events hold `pg_advisory_xact_lock_shared(EVENTS_WRITER_LOCK_KEY)` until it
  commits or rolls back; writers never wait for one another. `seq_horizon` takes the same
  key exclusively, which waits until every writer holding a seq has ended, and reads
  max(seq) while it holds the key: any seq drawn later comes from the sequence after that
  point, so it is larger. It releases the key at once, so writers are held up only for
  the moment of the read. Each writer holds the key for one import batch (or one
  ingestion transaction): keep those transactions short, as db.write() asks anyway, and
  never call `seq_horizon` while a transaction of your own that inserted events is still
  open: it would wait for that transaction, which waits for it.
- SQLite: writers are serialised (BEGIN IMMEDIATE) and number their rows from max(seq)
  read under the write lock, so seqs commit in order and the largest committed seq is
  the horizon.

Alternatives considered: comparing transaction ids against the reader's snapshot xmin
(`pg_snapshot_xmin(pg_current_snapshot())`) needs the writer's xid stored on each row and a
watermark of two parts; re-reading a fixed window below W trades exactness for a guess at
how long a transaction may stay open. The lock costs one short wait per tick and gives an
exact rule on both backends.
"""

from __future__ import annotations

from sqlalchemy import func, select, text

from engine.history.db import Database
from engine.history.models import Event

# The key of the writers' shared lock; migration 0003 writes the same number in its trigger.
EVENTS_WRITER_LOCK_KEY = 0x5241_5050_4556_5400  # "RAPPEVT\0"


def seq_horizon(db: Database) -> int:
    """The largest seq that may safely become the watermark now: every event with a seq at
    or below it has committed (or never will), so a snapshot taken after this call sees
    them all. 0 while there are no events."""
    if db.is_sqlite:
        with db.read() as session:
            return int(session.scalar(select(func.coalesce(func.max(Event.seq), 0))) or 0)
    with db.engine.connect() as connection:
        # Transaction-level: released by the commit below, or by the server if we die.
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENTS_WRITER_LOCK_KEY}
        )
        # READ COMMITTED: this statement's snapshot is taken after the lock was granted.
        horizon = connection.scalar(select(func.coalesce(func.max(Event.seq), 0)))
        connection.commit()
    return int(horizon or 0)
