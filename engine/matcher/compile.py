"""Condition AST -> durable_rules rules (JSON form). Pure: durable itself is never imported.

Each condition becomes one or more rules over two facts of the customer's session:

    {"all": [{"c": <customer fact test>}, {"e": <request fact test>}], "run": <action>}

`all` with two patterns needs two *different* facts (the customer fact and one request
fact); everything said about one fact goes into one pattern joined with $and/$or.
Negation is pushed down to the leaves with explicit existence tests ($ex/$nex) so that
null and kind rules equal the reference evaluator's (engine.conditions.values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.conditions.ast import Aggregate, BoolOp, Compare, Expr, ListLiteral, Literal, Name, Not
from engine.conditions.evaluate import Facts, evaluate
from engine.conditions.values import KINDS, ORDERED_KINDS, Kind, kind_of
from engine.matcher.formula import Formula, Leaf, Unsupported, conj, disj, split_terms, to_json
from engine.matcher.slots import Slot, SlotTable, encode

_NO_FACTS = Facts(customer={}, event=None, aggregates={})
_DURABLE_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
# Characters durable_rules' regular expressions read literally inside [...]. '%', '\\'
# and control characters have no literal spelling there ('[\\]' also matches '"'), so
# `contains` with them falls back to the reference evaluator.
_REGEX_PUNCTUATION = set("!\"#$&'()*+,-./:;<=>?@[_`{|}~")
_NO_REGEX_SPELLING = "%\\"


def condition_rules(expr: Expr, slots: SlotTable, action: str) -> list[dict[str, Any]]:
    """The durable rules whose firing means `expr` holds; raises Unsupported."""
    rules = []
    for customer_part, request_part in split_terms(_Translator(slots).truth(expr, True)):
        rules.append(
            {
                "all": [
                    {"c": _pattern("c", customer_part)},
                    {"e": _pattern("e", request_part)},
                ],
                "run": action,
            }
        )
    return rules


def _pattern(fact: str, formula: Formula) -> Any:
    kind_test = {"k": fact}
    if formula is True:
        return kind_test
    return {"$and": [kind_test, to_json(formula)]}


class _Translator:
    def __init__(self, slots: SlotTable) -> None:
        self.slots = slots

    def truth(self, expr: Expr, positive: bool) -> Formula:
        """A formula that holds exactly when evaluate(expr) == positive."""
        if isinstance(expr, BoolOp):
            parts = [self.truth(operand, positive) for operand in expr.operands]
            return conj(*parts) if (expr.op == "and") == positive else disj(*parts)
        if isinstance(expr, Not):
            return self.truth(expr.operand, not positive)
        if isinstance(expr, Compare):
            return self.compare(expr, positive)
        if isinstance(expr, Name | Aggregate):
            return self.compare(Compare("==", expr, Literal(True)), positive)
        return evaluate(expr, _NO_FACTS) == positive

    def compare(self, node: Compare, positive: bool) -> Formula:
        left, right = node.left, node.right
        if not _has_slot(left) and not _has_slot(right):
            return evaluate(node, _NO_FACTS) == positive
        if any(isinstance(side, Compare | BoolOp | Not) for side in (left, right)):
            raise Unsupported("a condition used as a value")
        if node.op in ("in", "not in"):
            return self.membership(node, positive)
        if node.op == "contains":
            return self.contains(node, positive)
        if isinstance(left, Literal):
            left, right = right, left
            node = Compare(_FLIPPED[node.op], left, right)  # type: ignore[arg-type]
        assert isinstance(left, Name | Aggregate)
        slot = self.slots.slot(left)
        if isinstance(right, Literal):
            return _against_literal(slot, node.op, right.value, positive)
        if not isinstance(right, Name | Aggregate):
            raise Unsupported(f"comparing with {type(right).__name__}")
        return _against_slot(slot, node.op, self.slots.slot(right), positive)

    def membership(self, node: Compare, positive: bool) -> Formula:
        left, right = node.left, node.right
        if not isinstance(left, Name | Aggregate) or not isinstance(right, ListLiteral):
            raise Unsupported("'in' needs a name on the left and a list on the right")
        if not all(isinstance(item, Literal) for item in right.items):
            raise Unsupported("'in' with a list of names")
        slot = self.slots.slot(left)
        values = [item.value for item in right.items if isinstance(item, Literal)]
        inside = disj(*(_against_literal(slot, "==", v, True) for v in values))
        outside = conj(*(_against_literal(slot, "==", v, False) for v in values))
        if node.op == "in":
            return inside if positive else outside
        return conj(_present(slot), outside) if positive else disj(_null(slot), inside)

    def contains(self, node: Compare, positive: bool) -> Formula:
        left, right = node.left, node.right
        if not isinstance(left, Name | Aggregate) or not isinstance(right, Literal):
            raise Unsupported("'contains' needs a name on the left and a text on the right")
        if not isinstance(right.value, str):
            return not positive
        if not positive:
            raise Unsupported("durable_rules has no negated pattern test for 'not contains'")
        slot = self.slots.slot(left)
        key = slot.key("text")
        return Leaf(slot.fact, {"$and": [{"$ex": {key: 1}}, {"$mt": {key: _regex(right.value)}}]})


def _has_slot(expr: Expr) -> bool:
    if isinstance(expr, Name | Aggregate):
        return True
    return isinstance(expr, ListLiteral) and any(_has_slot(item) for item in expr.items)


def _regex(needle: str) -> str:
    parts = [".*"]
    for char in needle:
        if char in _REGEX_PUNCTUATION:
            parts.append(f"[{char}]")
        elif char in _NO_REGEX_SPELLING or not char.isprintable():
            raise Unsupported(f"'contains' with {char!r}")
        else:
            parts.append(char)
    parts.append(".*")
    return "".join(parts)


def _test(op: str, key: str, value: Any) -> Any:
    return {key: value} if op == "==" else {_DURABLE_OPS[op]: {key: value}}


def _exists(slot: Slot, kinds: Sequence[Kind]) -> Formula:
    return disj(*(Leaf(slot.fact, {"$ex": {key: 1}}) for key in slot.keys(kinds)))


def _missing(slot: Slot, kind: Kind) -> Formula:
    return Leaf(slot.fact, {"$nex": {slot.key(kind): 1}})


def _present(slot: Slot) -> Formula:
    return _exists(slot, KINDS)


def _null(slot: Slot) -> Formula:
    return conj(*(_missing(slot, kind) for kind in KINDS))


def _against_literal(slot: Slot, op: str, value: Any, positive: bool) -> Formula:
    kind = kind_of(value)
    if kind is None or (op not in ("==", "!=") and (kind == "bool" or kind not in ORDERED_KINDS)):
        return not positive  # compares with null are false; bools have no order
    key, literal = slot.key(kind), encode(value)
    if op == "!=":
        differs = disj(
            Leaf(slot.fact, {"$and": [{"$ex": {key: 1}}, _test("!=", key, literal)]}),
            _exists(slot, [k for k in KINDS if k != kind]),
        )
        same = Leaf(slot.fact, _test("==", key, literal))
        return differs if positive else disj(_null(slot), same)
    if positive:
        return Leaf(slot.fact, _test(op, key, literal))
    return disj(_missing(slot, kind), Leaf(slot.fact, _test(_NEGATED[op], key, literal)))


def _against_slot(left: Slot, op: str, right: Slot, positive: bool) -> Formula:
    """Name-vs-name is left to the reference evaluator.

    Within one fact durable_rules has no way to refer to the fact itself; across the two
    facts its references ({"c": key}) fail with error 311 whenever the referring
    property is absent, even behind an $ex guard, which null semantics need.
    """
    raise Unsupported("a name compared with another name")
