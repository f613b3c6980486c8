"""The condition AST: small frozen nodes, each remembering where it started in the text.

Offsets are 0-based character positions in the condition text; they only serve error
messages, so they take no part in equality (two conditions that read the same are equal).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal as TypingLiteral

from engine.durations import format_duration

Scope = TypingLiteral["customer", "event"]
AggregateFunc = TypingLiteral["count", "sum", "days_since", "last"]
CompareOp = TypingLiteral["==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains"]
LiteralValue = int | float | str | bool | None | timedelta

FUNCTIONS: tuple[str, ...] = ("count", "sum", "days_since", "last")
COMPARE_OPS: tuple[str, ...] = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "contains")


@dataclass(frozen=True)
class Literal:
    value: LiteralValue
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Expr, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    """customer.<field or attribute> or event.<property> (also event.type/occurred_at/ordinal)."""

    scope: Scope
    field: str
    offset: int = dataclasses.field(default=0, compare=False)

    @property
    def text(self) -> str:
        return f"{self.scope}.{self.field}"


@dataclass(frozen=True)
class Aggregate:
    """A function over the customer's history as of the evaluation time (docs/time.md)."""

    func: AggregateFunc
    event_type: str
    prop: str | None = None
    within: timedelta | None = None
    offset: int = field(default=0, compare=False)

    @property
    def key(self) -> str:
        """Stable name of the value, shared by history queries, facts and the matcher."""
        target = f"{self.event_type}.{self.prop}" if self.prop is not None else self.event_type
        if self.within is not None:
            return f"{self.func}({target},{format_duration(self.within)})"
        return f"{self.func}({target})"


@dataclass(frozen=True)
class Compare:
    op: CompareOp
    left: Expr
    right: Expr
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BoolOp:
    op: TypingLiteral["and", "or"]
    operands: tuple[Expr, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    operand: Expr
    offset: int = field(default=0, compare=False)


Expr = Literal | ListLiteral | Name | Aggregate | Compare | BoolOp | Not


def children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, ListLiteral):
        return expr.items
    if isinstance(expr, Compare):
        return (expr.left, expr.right)
    if isinstance(expr, BoolOp):
        return expr.operands
    if isinstance(expr, Not):
        return (expr.operand,)
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node, parents before children."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def aggregates_of(expr: Expr) -> frozenset[Aggregate]:
    """The history values a condition needs; the history layer computes exactly these."""
    return frozenset(node for node in walk(expr) if isinstance(node, Aggregate))
