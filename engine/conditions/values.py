"""What a value is, and how two values compare: the one definition both matchers follow.

Kinds: number (int/float, not bool, finite), text, bool, duration (timedelta), time (aware
datetime). Anything else -- None, lists, NaN, naive datetimes -- counts as null.

- `==` holds for two values of the same kind that are equal (ints and floats mix).
- `!=` holds for two non-null values that are not `==` ("gold" != 5 is true).
- `< <= > >=` hold for two values of the same orderable kind (number, text by code
  point, duration, time); bools are not ordered.
- any comparison with null is false, `!=` included.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

Kind = Literal["number", "text", "bool", "duration", "time"]
KINDS: tuple[Kind, ...] = ("number", "text", "bool", "duration", "time")
ORDERED_KINDS: tuple[Kind, ...] = ("number", "text", "duration", "time")
ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def kind_of(value: object) -> Kind | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "number"
    if isinstance(value, float):
        return "number" if math.isfinite(value) else None
    if isinstance(value, str):
        return "text"
    if isinstance(value, timedelta):
        return "duration"
    if isinstance(value, datetime):
        return "time" if value.tzinfo is not None else None
    return None


def plain(value: Any) -> Any:
    """The comparable form: durations in seconds, times in epoch seconds."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def equal(left: object, right: object) -> bool:
    kind = kind_of(left)
    return kind is not None and kind == kind_of(right) and plain(left) == plain(right)


def compare(op: str, left: object, right: object) -> bool:
    """One of == != < <= > >= with the null and kind rules above."""
    if op == "==":
        return equal(left, right)
    if op == "!=":
        return kind_of(left) is not None and kind_of(right) is not None and not equal(left, right)
    kind = kind_of(left)
    if kind is None or kind == "bool" or kind != kind_of(right):
        return False
    return ORDERINGS[op](plain(left), plain(right))
