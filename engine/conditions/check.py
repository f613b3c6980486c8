"""Type checks on a parsed condition: every problem at once, each with its offset.

Only what is known before seeing data is checked: literals, history functions
(count/sum/days_since give numbers) and the fixed event fields. Customer attributes
and event properties may hold anything, so they are checked only against themselves.
"""

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
    children,
    walk,
)
from engine.conditions.errors import ConditionError
from engine.conditions.printer import pretty
from engine.conditions.values import kind_of

_KIND_WORDS = {
    "number": "a number",
    "text": "text",
    "bool": "true/false",
    "duration": "a duration",
    "time": "a time",
}
_EVENT_FIELD_KINDS = {"type": "text", "ordinal": "number", "occurred_at": "time"}


def check_condition(expr: Expr, *, event_allowed: bool) -> list[ConditionError]:
    problems: list[ConditionError] = []
    _check_position(expr, problems)
    for node in walk(expr):
        if isinstance(node, Name) and node.scope == "event" and not event_allowed:
            problems.append(
                ConditionError(
                    node.offset,
                    f"{node.text} needs a trigger event and this condition has none"
                    " (use a history function, e.g. last(TYPE.PROP))",
                )
            )
        elif isinstance(node, Compare):
            problems.extend(_check_compare(node))
        elif isinstance(node, BoolOp | Not):
            for operand in children(node):
                _check_position(operand, problems)
    return sorted(set(problems), key=lambda p: (p.offset, p.reason))


def _check_position(expr: Expr, problems: list[ConditionError]) -> None:
    """A condition position needs something true/false, not a number or a list."""
    if isinstance(expr, Literal | Aggregate | ListLiteral):
        kind = _kind(expr)
        if kind not in (None, "bool"):
            problems.append(
                ConditionError(
                    expr.offset,
                    f"{pretty(expr)} is not a condition; compare it, e.g. {pretty(expr)} >= 1"
                    if isinstance(expr, Aggregate)
                    else f"{pretty(expr)} is not a condition (expected something true or false)",
                )
            )


def _kind(expr: Expr) -> str | None:
    if isinstance(expr, Literal):
        return kind_of(expr.value) if expr.value is not None else "null"
    if isinstance(expr, ListLiteral):
        return "list"
    if isinstance(expr, Aggregate):
        return None if expr.func == "last" else "number"
    if isinstance(expr, Name) and expr.scope == "event":
        return _EVENT_FIELD_KINDS.get(expr.field)
    if isinstance(expr, Compare | BoolOp | Not):
        return "condition"
    return None


def _describe(expr: Expr, kind: str) -> str:
    return f"{_KIND_WORDS.get(kind, kind)} ({pretty(expr)})"


def _check_compare(node: Compare) -> list[ConditionError]:
    left, right = _kind(node.left), _kind(node.right)
    where = node.offset
    if "condition" in (left, right):
        return [ConditionError(where, "a condition cannot be compared; combine with and/or/not")]
    if node.op in ("in", "not in"):
        return _check_membership(node, left, right)
    if "list" in (left, right):
        return [ConditionError(where, f"a list can only follow 'in' or 'not in', not {node.op!r}")]
    if node.op == "contains":
        return _check_contains(node, left)
    if "null" in (left, right):
        return [ConditionError(where, _null_message(node))]
    if node.op not in ("==", "!=") and "bool" in (left, right):
        return [ConditionError(where, f"true/false cannot be ordered with {node.op!r}")]
    if left and right and left != right:
        return [_mismatch(node, left, right)]
    return []


def _null_message(node: Compare) -> str:
    reason = f"{node.op} null is always false (any comparison with null is false)"
    sides = (node.left, node.right)
    history = [e for e in sides if isinstance(e, Aggregate) and e.func in ("days_since", "last")]
    if history:  # "never happened" is count(...) == 0, not a null test
        kind = history[0].event_type
        reason += f"; to test for no {kind} use count({kind}) == 0"
    return reason


def _mismatch(node: Compare, left: str, right: str) -> ConditionError:
    hint = ""
    days = (node.left, node.right)
    if any(isinstance(e, Aggregate) and e.func == "days_since" for e in days) and (
        "duration" in (left, right)
    ):
        hint = "; days_since() is a number of days, compare it with a number like 30"
    reason = (
        f"cannot compare {_describe(node.left, left)} with {_describe(node.right, right)}{hint}"
    )
    return ConditionError(node.offset, reason)


def _check_membership(node: Compare, left: str | None, right: str | None) -> list[ConditionError]:
    if not isinstance(node.right, ListLiteral):
        return [ConditionError(node.right.offset, f"{node.op!r} needs a list, like [1, 2]")]
    if left == "list":
        return [ConditionError(node.offset, f"{node.op!r} needs a single value on its left")]
    problems = []
    for item in node.right.items:
        kind = _kind(item)
        if not isinstance(item, Literal):
            problems.append(ConditionError(item.offset, "list items must be literals"))
        elif left and kind and kind != "null" and kind != left:
            problems.append(_mismatch(Compare("==", node.left, item, item.offset), left, kind))
    return problems


def _check_contains(node: Compare, left: str | None) -> list[ConditionError]:
    problems = []
    if left and left != "text":
        problems.append(
            ConditionError(node.offset, f"'contains' needs text on its left, got {left}")
        )
    if not (isinstance(node.right, Literal) and isinstance(node.right.value, str)):
        problems.append(
            ConditionError(node.right.offset, "'contains' needs a text literal on its right")
        )
    return problems
