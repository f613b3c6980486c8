"""The entry points commands and tests use: load the rules, pick a sink, evaluate."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select

from engine.clock import as_utc
from engine.config import Settings
from engine.errors import RapportError
from engine.evaluation.pipeline import evaluate, prepare
from engine.evaluation.summary import Summary
from engine.facts.loading import DEFAULT_BATCH_SIZE, find_customer_ids
from engine.history.db import Database
from engine.history.models import Customer
from engine.ledger.sinks import DatabaseSink, RecordingSink, Sink
from engine.messages import TemplateLibrary
from engine.ops.removal import cancel_removed_cadences
from engine.strategy import load_strategy
from engine.strategy.model import Strategy


@dataclass(frozen=True)
class EvaluationOptions:
    """What one evaluation covers besides its time, and how it runs.

    `customer` (external id or @handle) and `cadence` narrow it to one; `strategy` is
    loaded from the settings' rules folder when None; `workers` is the number of
    processes (None picks one per core for a large base and one for a small one:
    starting a worker costs about as much as 1,000 customers).
    """

    customer: str | None = None
    cadence: str | None = None
    strategy: Strategy | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    workers: int | None = None


EVERYTHING = EvaluationOptions()


def evaluate_at(
    db: Database,
    settings: Settings,
    *,
    now: datetime,
    sink: Sink,
    mode: str,
    options: EvaluationOptions = EVERYTHING,
) -> Summary:
    """One evaluation at `now` over every customer (or one), every cadence (or one).

    `now` may be naive (read as UTC, the storage convention) or in any zone.
    """
    now = as_utc(now)
    strategy = options.strategy
    if strategy is None:
        strategy = load_strategy(settings.rules_dir, templates_dir=settings.templates_dir)
    cadence, customer = options.cadence, options.customer
    if cadence is not None and cadence not in {c.name for c in strategy.cadences}:
        known = ", ".join(c.name for c in strategy.cadences) or "none"
        raise RapportError(f"no cadence named {cadence!r}", hint=f"cadences: {known}")
    ids = None
    if customer is not None:
        ids = find_customer_ids(db, customer)
        if not ids:
            raise RapportError(
                f"no customer with id or handle {customer!r}", hint="check `rapport import`"
            )
    evaluation = prepare(
        db,
        strategy,
        settings,
        now=now,
        library=TemplateLibrary(settings.templates_dir),
        cadence=cadence,
    )
    workers = options.workers
    if workers is None:
        workers = default_workers(db) if ids is None else 1
    return evaluate(
        db,
        evaluation,
        sink,
        mode=mode,
        customer_ids=ids,
        batch_size=options.batch_size,
        workers=workers,
    )


PARALLEL_FROM_CUSTOMERS = 20_000


def default_workers(db: Database) -> int:
    """One process per core for a full pass over a large base."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cores or cores < 2:
        return 1
    with db.read() as session:
        customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    return cores if customers >= PARALLEL_FROM_CUSTOMERS else 1


def run_once(
    db: Database, settings: Settings, *, now: datetime, options: EvaluationOptions = EVERYTHING
) -> Summary:
    """A real evaluation: enrolments, decisions and the outbox are written; first, the
    queued messages of cadences removed from rules/ are cancelled.

    Under the database's evaluation lock: two overlapping runs would each decide on a
    history without the other's writes, and both would write.
    """
    now = as_utc(now)
    strategy = options.strategy
    if strategy is None:  # loaded once: the removal and the evaluation see the same rules
        strategy = load_strategy(settings.rules_dir, templates_dir=settings.templates_dir)
        options = replace(options, strategy=strategy)
    sink = DatabaseSink(db, keep_decisions=settings.decision_retention)
    with db.evaluation_lock():
        # A cadence whose file left rules/ withdraws what it queued before anything is
        # planned (engine/ops/removal.py).
        cancel_removed_cadences(db, strategy, now=now)
        return evaluate_at(db, settings, now=now, sink=sink, mode="run", options=options)


def preview(
    db: Database, settings: Settings, *, now: datetime, options: EvaluationOptions = EVERYTHING
) -> tuple[Summary, RecordingSink]:
    """The same evaluation with a recording sink: nothing is written.

    One read snapshot for the whole evaluation: a run committing meanwhile is either
    wholly seen or not at all.
    """
    sink = RecordingSink()
    with db.snapshot():
        summary = evaluate_at(db, settings, now=now, sink=sink, mode="preview", options=options)
    return summary, sink
