"""The daemon's only door into engine.evaluation: every name it uses from there is here.

The daemon cannot call `run_once` as it is: `run_once` builds the matcher (durable_rules)
in the calling process, once per evaluation, and the daemon must never run durable_rules
itself (engine/daemon/pool.py says why). So a tick is split in two halves that reuse the
evaluation's own pieces:

- in the daemon: go-lives, the run row, the batches of customer ids, and the writes
  (the evaluation's DatabaseSink, one transaction per batch, in batch order);
- in a worker: the rules compiled once per worker life, then each batch evaluated by
  the evaluation's own `evaluate_ids`, at the tick's `now` and go-lives.

Entry points used (keep this list in step with the imports below):
engine.evaluation.pipeline.build_evaluation / evaluate_ids / ERROR_CADENCE,
engine.facts.loading.load_launches / customer_id_batches,
engine.evaluation.triggers.go_live, engine.ledger.sinks.DatabaseSink,
engine.evaluation.records.Changes / DecisionRecord, engine.evaluation.summary.Summary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.config import Settings
from engine.history.db import Database
from engine.strategy.model import Strategy

WorkerEvaluate = Callable[[Sequence[int], datetime, dict[str, datetime]], tuple[Any, int]]


def worker_evaluator(database_url: str, strategy: Strategy, settings: Settings) -> WorkerEvaluate:
    """In a worker: compile the conditions and templates once; return a batch evaluator.

    The compiled conditions (one durable_rules ruleset) are reused by every batch of every
    tick: building an Evaluation per tick would add a ruleset to the process each time.
    """
    from engine.evaluation.pipeline import build_evaluation, evaluate_ids
    from engine.messages import TemplateLibrary

    db = Database.open(database_url, upgrade=False)
    base = build_evaluation(
        strategy,
        settings,
        now=datetime(1970, 1, 1, tzinfo=UTC),  # replaced per batch
        library=TemplateLibrary(settings.templates_dir),
        cadences=strategy.cadences,
        go_lives={},
        launches={},
    )

    def evaluate(
        ids: Sequence[int], now: datetime, go_lives: dict[str, datetime]
    ) -> tuple[Any, int]:
        evaluation = dataclasses.replace(base, now=now, go_lives=go_lives)
        return evaluate_ids(db, evaluation, ids)

    return evaluate


def go_lives(
    db: Database, strategy: Strategy, now: datetime
) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """(go-live per cadence, cadences launched by this tick) as `prepare` decides them."""
    from engine.evaluation.triggers import go_live
    from engine.facts.loading import load_launches

    launched = load_launches(db)
    lives = {c.name: go_live(c, launched, now) for c in strategy.cadences}
    launches = {c.name: now for c in strategy.cadences if c.name not in launched}
    return lives, launches


def customer_batches(db: Database, *, batch_size: int) -> Iterator[list[int]]:
    """Every customer today; the incremental evaluation will narrow this to those due."""
    from engine.facts.loading import customer_id_batches

    return customer_id_batches(db, batch_size=batch_size)


def database_sink(db: Database, settings: Settings) -> Any:
    from engine.ledger.sinks import DatabaseSink

    return DatabaseSink(db, keep_decisions=settings.decision_retention)


def new_summary(now: datetime) -> Any:
    from engine.evaluation.summary import Summary

    return Summary(now)


def launch_changes(launches: dict[str, datetime]) -> Any:
    from engine.evaluation.records import Changes

    return Changes(launches=dict(launches))


def error_changes(ids: Sequence[int], now: datetime, why: str) -> Any:
    """An `evaluation_error` drop per customer of a batch no worker could evaluate."""
    from engine.evaluation.pipeline import ERROR_CADENCE
    from engine.evaluation.records import Changes, DecisionRecord
    from engine.ledger.decisions import DecisionOutcome, Reason

    return Changes(
        decisions=[
            DecisionRecord(
                customer_id=customer_id,
                cadence=ERROR_CADENCE,
                step=None,
                outcome=DecisionOutcome.DROPPED,
                reason=Reason.EVALUATION_ERROR,
                detail=why,
                decided_at=now,
            )
            for customer_id in ids
        ]
    )
