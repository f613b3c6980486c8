"""Hypothesis strategies for condition ASTs and facts, shared by the property tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from engine.conditions import (
    Aggregate,
    BoolOp,
    Compare,
    Expr,
    Facts,
    ListLiteral,
    Literal,
    Name,
    Not,
)

CUSTOMER_FIELDS = ("x", "y", "name")
EVENT_FIELDS = ("amount", "type", "flag")
AGGREGATES = (
    Aggregate("count", "purchase"),
    Aggregate("sum", "purchase", "amount", timedelta(days=30)),
    Aggregate("days_since", "purchase"),
    Aggregate("last", "purchase", "amount"),
)
TEXTS = ("", "a", "b", "A", "ab", "a.b", "é", "x y", '"', "\\", "(a)", "a*", "gold")
TIMES = tuple(datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3))

numbers = st.one_of(st.integers(-3, 3), st.sampled_from((-1.5, 0.0, 0.5, 2.0, 2.5)))
values: st.SearchStrategy[Any] = st.one_of(
    numbers,
    st.sampled_from(TEXTS),
    st.booleans(),
    st.none(),
    st.sampled_from((timedelta(0), timedelta(seconds=1), timedelta(days=2))),
)
# Numbers durable_rules' JSON reader cannot take as they are (exponent floats, beyond
# int64, inexact beyond 2**53): the durable matcher must hand them to the reference.
EXTREME_NUMBERS = (
    5e-05,
    1e-300,
    1e16,
    1e22,
    -1e308,
    2**53 - 1,
    2**53,
    2**53 + 1,
    -(2**53) - 1,
    2**63 - 1,
    2**63,
    -(2**63),
    2**64,
    2**64 + 1,
    10**30,
    timedelta(microseconds=1),
)
extreme_values = st.sampled_from(EXTREME_NUMBERS)
data_values = st.one_of(values, st.sampled_from(TIMES), st.just([1, 2]), extreme_values)

names: st.SearchStrategy[Expr] = st.one_of(
    st.builds(Name, st.just("customer"), st.sampled_from(CUSTOMER_FIELDS)),
    st.builds(Name, st.just("event"), st.sampled_from(EVENT_FIELDS)),
    st.sampled_from(AGGREGATES),
)
ordering = st.sampled_from(("==", "!=", "<", "<=", ">", ">="))


def _compare(op: str, left: Expr, right: Expr) -> Expr:
    return Compare(op, left, right)  # type: ignore[arg-type]


def _compares(literal_values: st.SearchStrategy[Any]) -> st.SearchStrategy[Expr]:
    literals = st.builds(Literal, literal_values)
    operands = st.one_of(names, names, literals)
    return st.one_of(
        st.builds(_compare, ordering, operands, operands),
        st.builds(
            _compare,
            st.sampled_from(("in", "not in")),
            names,
            st.builds(ListLiteral, st.lists(literals, max_size=3).map(tuple)),
        ),
        st.builds(_compare, st.just("contains"), names, st.builds(Literal, st.sampled_from(TEXTS))),
        names,
    )


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.builds(Not, children),
        st.builds(
            BoolOp,
            st.sampled_from(("and", "or")),
            st.lists(children, min_size=2, max_size=3).map(tuple),
        ),
    )


conditions: st.SearchStrategy[Expr] = st.recursive(_compares(values), _extend, max_leaves=6)
# Also with literals the condition language cannot spell (5e-05): for the matchers only.
wide_conditions: st.SearchStrategy[Expr] = st.recursive(
    _compares(st.one_of(values, extreme_values)), _extend, max_leaves=6
)


@st.composite
def facts(draw: st.DrawFn, with_event: bool | None = None) -> Facts:
    customer = {f: draw(data_values) for f in CUSTOMER_FIELDS if draw(st.booleans())}
    aggregates = {a.key: draw(data_values) for a in AGGREGATES if draw(st.booleans())}
    has_event = draw(st.booleans()) if with_event is None else with_event
    event = None
    if has_event:
        event = {f: draw(data_values) for f in EVENT_FIELDS if draw(st.booleans())}
    return Facts(customer, event, aggregates)
