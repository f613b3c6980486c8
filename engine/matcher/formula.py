"""A small boolean IR between the condition AST and durable_rules JSON.

A Leaf is one durable_rules test on one fact: "c" (the customer fact: attributes and
history aggregates) or "e" (a request fact: the candidate trigger event). Formulas are
kept in negation normal form, because durable_rules has no general "not".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

FactName = Literal["c", "e"]
MAX_TERMS = 64


class Unsupported(Exception):
    """durable_rules cannot express this condition; the reference evaluator answers it."""


@dataclass(frozen=True)
class Leaf:
    fact: FactName
    test: Any  # a durable_rules JSON test, e.g. {"$gt": {"c0n": 5}}


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Formula, ...]


Formula = Leaf | AllOf | AnyOf | bool


def conj(*parts: Formula) -> Formula:
    kept: list[Formula] = []
    for part in parts:
        if part is False:
            return False
        if part is True:
            continue
        kept.extend(part.parts if isinstance(part, AllOf) else (part,))
    if not kept:
        return True
    return kept[0] if len(kept) == 1 else AllOf(tuple(kept))


def disj(*parts: Formula) -> Formula:
    kept: list[Formula] = []
    for part in parts:
        if part is True:
            return True
        if part is False:
            continue
        kept.extend(part.parts if isinstance(part, AnyOf) else (part,))
    if not kept:
        return False
    return kept[0] if len(kept) == 1 else AnyOf(tuple(kept))


def facts_of(formula: Formula) -> frozenset[FactName]:
    if isinstance(formula, Leaf):
        return frozenset((formula.fact,))
    if isinstance(formula, AllOf | AnyOf):
        return frozenset().union(*(facts_of(part) for part in formula.parts))
    return frozenset()


Term = tuple[Formula, Formula]  # (test on the customer fact, test on the request fact)


def split_terms(formula: Formula) -> list[Term]:
    """Rewrite as OR of (customer part AND request part): one durable rule per term.

    Single-fact subtrees stay whole (durable nests $and/$or inside one pattern); only
    the places where both facts mix are multiplied out.
    """
    facts = facts_of(formula)
    if formula is False:
        return []
    if facts <= {"c"}:
        return [(formula, True)]
    if facts == {"e"}:
        return [(True, formula)]
    assert isinstance(formula, AllOf | AnyOf)
    if isinstance(formula, AnyOf):
        terms = [term for part in formula.parts for term in split_terms(part)]
    else:
        terms = []
        for combo in itertools.product(*(split_terms(part) for part in formula.parts)):
            terms.append((conj(*(c for c, _ in combo)), conj(*(e for _, e in combo))))
            if len(terms) > MAX_TERMS:
                break
    if len(terms) > MAX_TERMS:
        raise Unsupported(f"more than {MAX_TERMS} customer/event alternatives")
    return [(c, e) for c, e in terms if c is not False and e is not False]


def to_json(formula: Formula) -> Any:
    if isinstance(formula, Leaf):
        return formula.test
    if isinstance(formula, AllOf):
        return {"$and": [to_json(part) for part in formula.parts]}
    if isinstance(formula, AnyOf):
        return {"$or": [to_json(part) for part in formula.parts]}
    raise ValueError(f"constant {formula} has no JSON form")  # callers drop constants first
