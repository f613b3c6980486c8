"""The reference evaluator: the meaning of a condition, in plain Python.

The durable_rules matcher must agree with it on every input (tests/test_matcher_*).
Value and comparison rules live in engine.conditions.values. Further choices:

- `not` is two-valued: `not (customer.age > 30)` is true when age is missing.
- `x in [..]` holds when x equals (==) some item; `x not in [..]` when x is not null and
  equals none of them.
- `contains` is a case-sensitive substring test between two texts; false otherwise.
- a bare value where a condition is expected reads as `value == true`.
- event.occurred_at is a time; v1 has no time literals, so it compares only with
  other times (another name), never with a text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.conditions.ast import Aggregate, BoolOp, Compare, Expr, ListLiteral, Literal, Name, Not
from engine.conditions.values import compare, equal, kind_of


@dataclass(frozen=True)
class Facts:
    """What a condition can see for one customer at one evaluation time.

    `event` is the trigger event as one flat mapping: its properties plus "type",
    "occurred_at" (aware datetime) and "ordinal"; None when there is no trigger event.
    `aggregates` is keyed by Aggregate.key.
    """

    customer: Mapping[str, Any]
    event: Mapping[str, Any] | None
    aggregates: Mapping[str, Any]


def evaluate(expr: Expr, facts: Facts) -> bool:
    if isinstance(expr, BoolOp):
        if expr.op == "and":
            return all(evaluate(operand, facts) for operand in expr.operands)
        return any(evaluate(operand, facts) for operand in expr.operands)
    if isinstance(expr, Not):
        return not evaluate(expr.operand, facts)
    if isinstance(expr, Compare):
        return _compare(expr, facts)
    return value_of(expr, facts) is True


def value_of(expr: Expr, facts: Facts) -> Any:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Name):
        source = facts.customer if expr.scope == "customer" else facts.event
        return None if source is None else source.get(expr.field)
    if isinstance(expr, Aggregate):
        return facts.aggregates.get(expr.key)
    if isinstance(expr, ListLiteral):
        return tuple(value_of(item, facts) for item in expr.items)
    return evaluate(expr, facts)


def _compare(expr: Compare, facts: Facts) -> bool:
    left = value_of(expr.left, facts)
    right = value_of(expr.right, facts)
    if expr.op in ("in", "not in"):
        if kind_of(left) is None or not isinstance(right, tuple):
            return False
        found = any(equal(left, item) for item in right)
        return found if expr.op == "in" else not found
    if expr.op == "contains":
        return isinstance(left, str) and isinstance(right, str) and right in left
    return compare(expr.op, left, right)
