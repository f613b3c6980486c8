"""The modes: one evaluation (engine.evaluation) run as run, preview, explain or simulate.

Only the sink differs (engine.ledger.sinks). Nothing below this package imports it.

- `run_once(db, settings, now=...)` -> Summary: writes enrolments, contacts, decisions.
- `preview(db, settings, now=..., options=EvaluationOptions(customer=..., cadence=...))`
  -> (Summary, RecordingSink): the same evaluation, nothing written.
- `evaluate_at(db, settings, now=..., sink=..., mode=..., options=...)`: any sink.
- `DatabaseSink`, `RecordingSink`, `Changes`, `Summary`.
"""

from __future__ import annotations

from engine.evaluation.records import Changes
from engine.evaluation.summary import Summary
from engine.ledger.sinks import DatabaseSink, RecordingSink, Sink
from engine.modes.runner import EvaluationOptions, evaluate_at, preview, run_once

__all__ = [
    "Changes",
    "DatabaseSink",
    "EvaluationOptions",
    "RecordingSink",
    "Sink",
    "Summary",
    "evaluate_at",
    "preview",
    "run_once",
]
