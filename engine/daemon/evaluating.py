"""One evaluation tick: the daemon's half of a `run --once`, with the batches in workers.

Under the database's evaluation lock (a `run --once` from the CLI and the daemon never
evaluate at the same time), like `run --once`: the run row, then each batch's changes in
one transaction, in batch order, then the run's counts. A stop request ends the tick after
the batch in flight is committed; the customers not reached are evaluated by the next
tick (or the next daemon), exactly as if this tick had not seen them.

Crash points (engine/faults.py) mark the moments a crash test kills the daemon at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.config import Settings
from engine.daemon import evaluation_seam as seam
from engine.daemon.pool import WorkerPool
from engine.faults import crash_point
from engine.history.db import Database
from engine.strategy.model import Strategy

DEFAULT_BATCH_SIZE = 500
# A tick waits this long for a `run --once` in flight, then is skipped (the next tick
# comes soon); short, so that a stop request is never held up by it for long.
LOCK_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class TickResult:
    summary: Any  # engine.evaluation Summary
    complete: bool  # False: stopped before every customer was evaluated


def evaluate_tick(
    db: Database,
    pool: WorkerPool,
    *,
    strategy: Strategy,
    settings: Settings,
    now: datetime,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stopping: Callable[[], bool] = lambda: False,
) -> TickResult:
    with db.evaluation_lock(timeout=LOCK_WAIT_SECONDS):
        crash_point("daemon_tick_locked")
        lives, launches = seam.go_lives(db, strategy, now)
        sink = seam.database_sink(db, settings)
        summary = seam.new_summary(now)
        sink.begin(now, "run", strategy.version_hash)
        if launches:
            sink.apply(seam.launch_changes(launches))
        batches = _Counted(seam.customer_batches(db, batch_size=batch_size))
        results = pool.evaluate(batches, now=now, go_lives=lives, stopping=stopping)
        written = 0
        for result in results:
            crash_point("daemon_before_commit")  # evaluated, not yet written
            sink.apply(result.changes)
            crash_point("daemon_after_commit")  # this batch written, the run not finished
            summary.add(result.changes, result.evaluated)
            written += 1
        complete = batches.exhausted and written == batches.taken
        sink.finish({**summary.as_dict(), "complete": complete})
        return TickResult(summary, complete)


class _Counted:
    """The batches, counting those taken and noting whether the last one was reached."""

    def __init__(self, batches: Iterator[list[int]]) -> None:
        self._batches = batches
        self.taken = 0
        self.exhausted = False

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches:
            self.taken += 1
            yield batch
        self.exhausted = True
