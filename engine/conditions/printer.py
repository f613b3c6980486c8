"""AST -> condition text that parses back to the same AST (used in messages and tests)."""

from __future__ import annotations

from datetime import timedelta

from engine.conditions.ast import Aggregate, BoolOp, Compare, Expr, ListLiteral, Literal, Name, Not
from engine.durations import format_duration

_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def pretty(expr: Expr) -> str:
    if isinstance(expr, Literal):
        return _literal(expr.value)
    if isinstance(expr, ListLiteral):
        return "[" + ", ".join(pretty(item) for item in expr.items) + "]"
    if isinstance(expr, Name):
        return expr.text
    if isinstance(expr, Aggregate):
        target = expr.event_type + (f".{expr.prop}" if expr.prop else "")
        window = f", {format_duration(expr.within)}" if expr.within is not None else ""
        return f"{expr.func}({target}{window})"
    if isinstance(expr, Compare):
        return f"{_operand(expr.left)} {expr.op} {_operand(expr.right)}"
    if isinstance(expr, Not):
        return f"not {_operand(expr.operand)}"
    return f" {expr.op} ".join(_operand(operand) for operand in expr.operands)


def _operand(expr: Expr) -> str:
    """Parenthesize every compound part, so precedence never changes the meaning."""
    if isinstance(expr, Compare | BoolOp | Not):
        return f"({pretty(expr)})"
    return pretty(expr)


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, str):
        return '"' + "".join(_STRING_ESCAPES.get(c, c) for c in value) + '"'
    return repr(value)
