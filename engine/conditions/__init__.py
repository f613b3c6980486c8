"""The condition language (docs/conditions.md): tokens, parser, AST, checks, reference evaluator."""

from __future__ import annotations

from engine.conditions.ast import (
    Aggregate,
    BoolOp,
    Compare,
    Expr,
    ListLiteral,
    Literal,
    Name,
    Not,
    aggregates_of,
)
from engine.conditions.check import check_condition
from engine.conditions.errors import ConditionError
from engine.conditions.evaluate import Facts, evaluate
from engine.conditions.history import HistoryEvent, compute_aggregates
from engine.conditions.parser import parse_condition
from engine.conditions.printer import pretty

__all__ = [
    "Aggregate",
    "BoolOp",
    "Compare",
    "ConditionError",
    "Expr",
    "Facts",
    "HistoryEvent",
    "ListLiteral",
    "Literal",
    "Name",
    "Not",
    "aggregates_of",
    "check_condition",
    "compute_aggregates",
    "evaluate",
    "parse_condition",
    "pretty",
]
