"""The pure-Python matcher: evaluate() per requested condition. The definition of right."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.conditions.ast import Expr
from engine.conditions.evaluate import evaluate
from engine.matcher import MatchRequest


class ReferenceMatcher:
    def __init__(self, conditions: Mapping[str, Expr]) -> None:
        self.conditions = dict(conditions)

    def match(self, requests: Sequence[MatchRequest]) -> list[frozenset[str]]:
        return [
            frozenset(
                name
                for name in request.conditions
                if evaluate(self.conditions[name], request.facts)
            )
            for request in requests
        ]
