"""Full passes on every core.

Each worker process opens its own database connection and its own matcher (durable_rules
allows one engine per process and is not thread-safe), rebuilds the Evaluation from the
go-lives the parent decided, and returns each batch's Changes. The parent applies them to
its sink in batch order, so a parallel pass writes exactly what a one-process pass writes.

Inside a read snapshot (preview, explain: `Database.snapshot()`), the parent reads each
batch and the workers only evaluate it: a worker's own connection would read the database
as it is later, not as the snapshot saw it.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from engine.config import Settings
from engine.evaluation.pipeline import Evaluation, build_evaluation, evaluate_batch, evaluate_ids
from engine.evaluation.records import Changes, CustomerHistory
from engine.facts.loading import load_batch
from engine.history.db import Database
from engine.messages import TemplateLibrary
from engine.strategy.model import Strategy

# Batches in flight per worker: enough to keep every core busy, few enough that memory
# stays flat however many customers there are.
IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class WorkerSetup:
    database_url: str
    strategy: Strategy
    settings: Settings
    now: datetime
    cadences: tuple[str, ...]
    go_lives: dict[str, datetime]


_state: tuple[Database, Evaluation] | None = None


def _start_worker(setup: WorkerSetup) -> None:
    global _state
    chosen = tuple(c for c in setup.strategy.cadences if c.name in setup.cadences)
    evaluation = build_evaluation(
        setup.strategy,
        setup.settings,
        now=setup.now,
        library=TemplateLibrary(setup.settings.templates_dir),
        cadences=chosen,
        go_lives=setup.go_lives,
        launches={},
    )
    _state = (Database.open(setup.database_url, upgrade=False), evaluation)


def _evaluate_batch(ids: Sequence[int]) -> tuple[Changes, int]:
    assert _state is not None, "worker not started"
    db, evaluation = _state
    return evaluate_ids(db, evaluation, ids)


def _evaluate_loaded(histories: Sequence[CustomerHistory]) -> tuple[Changes, int]:
    assert _state is not None, "worker not started"
    return evaluate_batch(_state[1], histories), len(histories)


def evaluate_in_workers(
    db: Database, evaluation: Evaluation, batches: Iterable[list[int]], workers: int
) -> Iterator[tuple[Changes, int]]:
    """(changes, customers evaluated) per batch, in batch order, from `workers` processes."""
    setup = WorkerSetup(
        database_url=db.url,
        strategy=evaluation.strategy,
        settings=evaluation.settings,
        now=evaluation.now,
        cadences=tuple(c.name for c in evaluation.cadences),
        go_lives=evaluation.go_lives,
    )
    # spawn, not fork: the parent may hold a durable_rules engine and open connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, _start_worker, (setup,)) as pool:
        pending: list[Future[tuple[Changes, int]]] = []
        for ids in batches:
            if db.in_snapshot:
                now, zone = evaluation.now, evaluation.settings.timezone
                pending.append(pool.submit(_evaluate_loaded, load_batch(db, ids, now, zone)))
            else:
                pending.append(pool.submit(_evaluate_batch, ids))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
