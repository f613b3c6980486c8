"""Which named conditions hold for which facts: the Matcher protocol and its two backends.

DurableMatcher (durable_rules, the production backend) and ReferenceMatcher (pure
Python, the definition) must give the same answers; tests/test_matcher_* check it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.conditions.ast import Expr
from engine.conditions.evaluate import Facts


@dataclass(frozen=True)
class MatchRequest:
    """Ask which of `conditions` (names given to the matcher) hold for `facts`.

    Requests of one customer should share the same `facts.customer` and
    `facts.aggregates` mappings: the durable backend then puts them in one session.
    """

    customer_id: str
    facts: Facts
    conditions: frozenset[str]


class Matcher(Protocol):
    def match(self, requests: Sequence[MatchRequest]) -> list[frozenset[str]]:
        """Answer i lists the conditions of request i that hold."""
        ...


def make_matcher(conditions: Mapping[str, Expr], backend: str = "durable") -> Matcher:
    if backend == "durable":
        from engine.matcher.durable import DurableMatcher

        return DurableMatcher(conditions)
    if backend == "reference":
        from engine.matcher.reference import ReferenceMatcher

        return ReferenceMatcher(conditions)
    raise ValueError(f"unknown matcher backend {backend!r} (use durable or reference)")


__all__ = ["MatchRequest", "Matcher", "make_matcher"]
