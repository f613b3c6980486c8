"""Where each name lives in the durable_rules facts, and how values are written there.

durable_rules compares across types in its own way (it reads "7" as a number, treats
JSON null as present), so every value is stored under a key that also names its kind:
customer.age = 41 becomes {"c0n": 41}; a missing or null value is simply absent. A test
on the number key then holds exactly when the reference evaluator's would.
Field names never reach durable_rules (a dot in a key means a nested path there).

durable_rules' C JSON reader cannot read exponent floats (5e-05, 1e+16: error 204 or a
segfault) and keeps numbers in int64/double, so beyond 2**53 its comparisons are not
exact. Such numbers never reach it: `encode` raises UnsafeValue, and the caller answers
that literal's condition (or that fact's requests) with the reference evaluator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.conditions.ast import Aggregate, Expr, Name, walk
from engine.conditions.values import KINDS, Kind, kind_of, plain
from engine.matcher.formula import FactName, Unsupported

LETTERS: dict[Kind, str] = {
    "number": "n",
    "text": "s",
    "bool": "b",
    "duration": "d",
    "time": "t",
}
_FAST_LETTERS: dict[type, str] = {str: "s", bool: "b"}
# Integers (and doubles) up to 2**53 are exact both in Python and in durable_rules.
EXACT_LIMIT = 2**53


class UnsafeValue(Unsupported):
    """A number durable_rules cannot read exactly; the reference evaluator answers instead."""


@dataclass(frozen=True)
class Slot:
    fact: FactName
    prefix: str

    def key(self, kind: Kind) -> str:
        return self.prefix + LETTERS[kind]

    def keys(self, kinds: Iterable[Kind] = KINDS) -> list[str]:
        return [self.key(kind) for kind in kinds]


class SlotTable:
    """Assigns a short prefix to every customer field, aggregate and event field in use."""

    def __init__(self, exprs: Iterable[Expr]) -> None:
        self.customer: dict[str, Slot] = {}
        self.aggregates: dict[str, Slot] = {}
        self.event: dict[str, Slot] = {}
        for expr in exprs:
            for node in walk(expr):
                if isinstance(node, Name | Aggregate):
                    self.slot(node)

    def slot(self, node: Name | Aggregate) -> Slot:
        if isinstance(node, Aggregate):
            table, fact, letter, key = self.aggregates, "c", "a", node.key
        elif node.scope == "customer":
            table, fact, letter, key = self.customer, "c", "c", node.field
        else:
            table, fact, letter, key = self.event, "e", "e", node.field
        if key not in table:
            table[key] = Slot(fact, f"{letter}{len(table)}")  # type: ignore[arg-type]
        return table[key]

    def customer_fact(
        self, sid: str, customer: Mapping[str, Any], aggregates: Mapping[str, Any]
    ) -> dict[str, Any]:
        fact: dict[str, Any] = {"sid": sid, "k": "c"}
        _write(fact, self.customer, customer)
        _write(fact, self.aggregates, aggregates)
        return fact

    def request_fact(self, sid: str, rq: int, event: Mapping[str, Any] | None) -> dict[str, Any]:
        fact: dict[str, Any] = {"sid": sid, "k": "e", "rq": rq}
        if event is not None:
            _write(fact, self.event, event)
        return fact


def _write(fact: dict[str, Any], slots: Mapping[str, Slot], values: Mapping[str, Any]) -> None:
    for field, slot in slots.items():
        value = values.get(field)
        if value is None:
            continue
        letter = _FAST_LETTERS.get(type(value))
        if letter is not None:
            fact[slot.prefix + letter] = value
        elif type(value) is int and -EXACT_LIMIT <= value <= EXACT_LIMIT:
            fact[slot.prefix + "n"] = value
        elif (kind := kind_of(value)) is not None:
            fact[slot.key(kind)] = encode(value)


def encode(value: Any) -> Any:
    """The JSON form durable_rules compares: seconds for durations, epoch seconds for times.

    Raises UnsafeValue for a number durable_rules would misread (see the module docstring).
    """
    encoded = plain(value) if isinstance(value, timedelta | datetime) else value
    is_number = isinstance(encoded, int | float) and not isinstance(encoded, bool)
    if is_number and not is_exact_in_durable(encoded):
        raise UnsafeValue(f"the number {encoded!r} cannot be passed to durable_rules exactly")
    return encoded


def is_exact_in_durable(number: int | float) -> bool:
    """True when durable_rules reads `number` as Python's json.dumps writes it, exactly."""
    if not -EXACT_LIMIT <= number <= EXACT_LIMIT:
        return False
    return isinstance(number, int) or "e" not in repr(number)
