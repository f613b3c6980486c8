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
data_values = st.one_of(values, st.sampled_from(TIMES), st.just([1, 2]))

names: st.SearchStrategy[Expr] = st.one_of(
    st.builds(Name, st.just("customer"), st.sampled_from(CUSTOMER_FIELDS)),
    st.builds(Name, st.just("event"), st.sampled_from(EVENT_FIELDS)),
    st.sampled_from(AGGREGATES),
)
literals: st.SearchStrategy[Expr] = st.builds(Literal, values)
operands = st.one_of(names, names, literals)
ordering = st.sampled_from(("==", "!=", "<", "<=", ">", ">="))


def _compare(op: str, left: Expr, right: Expr) -> Expr:
    return Compare(op, left, right)  # type: ignore[arg-type]


compares: st.SearchStrategy[Expr] = st.one_of(
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


conditions: st.SearchStrategy[Expr] = st.recursive(compares, _extend, max_leaves=6)


@st.composite
def facts(draw: st.DrawFn, with_event: bool | None = None) -> Facts:
    customer = {f: draw(data_values) for f in CUSTOMER_FIELDS if draw(st.booleans())}
    aggregates = {a.key: draw(data_values) for a in AGGREGATES if draw(st.booleans())}
    has_event = draw(st.booleans()) if with_event is None else with_event
    event = None
    if has_event:
        event = {f: draw(data_values) for f in EVENT_FIELDS if draw(st.booleans())}
    return Facts(customer, event, aggregates)
