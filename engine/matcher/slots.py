"""Where each name lives in the durable_rules facts, and how values are written there.

durable_rules compares across types in its own way (it reads "7" as a number, treats
JSON null as present), so every value is stored under a key that also names its kind:
customer.age = 41 becomes {"c0n": 41}; a missing or null value is simply absent. A test
on the number key then holds exactly when the reference evaluator's would.
Field names never reach durable_rules (a dot in a key means a nested path there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.conditions.ast import Aggregate, Expr, Name, walk
from engine.conditions.values import KINDS, Kind, kind_of, plain
from engine.matcher.formula import FactName

LETTERS: dict[Kind, str] = {
    "number": "n",
    "text": "s",
    "bool": "b",
    "duration": "d",
    "time": "t",
}
_FAST_LETTERS: dict[type, str] = {int: "n", str: "s", bool: "b", timedelta: "d"}


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
            fact[slot.prefix + letter] = plain(value)
        elif (kind := kind_of(value)) is not None:
            fact[slot.key(kind)] = encode(value)


def encode(value: Any) -> Any:
    """The JSON form durable_rules compares: seconds for durations, epoch seconds for times."""
    if isinstance(value, timedelta | datetime):
        return plain(value)
    return value
