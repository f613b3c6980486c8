"""Parser: exact error messages, random text never crashes it, printing round-trips."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_conditions_strategies import conditions

from engine.conditions import (
    Aggregate,
    BoolOp,
    Compare,
    ConditionError,
    ListLiteral,
    Literal,
    Name,
    Not,
    parse_condition,
    pretty,
)
from engine.errors import RapportError


def test_parses_the_design_examples() -> None:
    assert parse_condition("event.ordinal == 1 and event.amount >= 20") == BoolOp(
        "and",
        (
            Compare("==", Name("event", "ordinal"), Literal(1)),
            Compare(">=", Name("event", "amount"), Literal(20)),
        ),
    )
    assert parse_condition("sum(purchase.amount, 365d) >= 100") == Compare(
        ">=", Aggregate("sum", "purchase", "amount", timedelta(days=365)), Literal(100)
    )
    assert parse_condition('not customer.tier in ["a", -2.5]') == Not(
        Compare("in", Name("customer", "tier"), ListLiteral((Literal("a"), Literal(-2.5))))
    )
    assert parse_condition("customer.x not in [] or event.page contains 'p'") == BoolOp(
        "or",
        (
            Compare("not in", Name("customer", "x"), ListLiteral(())),
            Compare("contains", Name("event", "page"), Literal("p")),
        ),
    )


def test_precedence_and_offsets() -> None:
    expr = parse_condition("true or false and not null")
    assert expr == BoolOp(
        "or", (Literal(True), BoolOp("and", (Literal(False), Not(Literal(None)))))
    )
    compare = parse_condition("  count(reply, 2w) > 0")
    assert isinstance(compare, Compare) and compare.offset == 2
    assert isinstance(compare.right, Literal) and compare.right.offset == 21


def test_aggregate_keys() -> None:
    keys = [
        parse_condition(text).left.key  # type: ignore[union-attr]
        for text in (
            "count(purchase, 30d) > 1",
            "sum(purchase.amount, 365d) > 1",
            "days_since(purchase) > 1",
            "last(purchase.amount) > 1",
        )
    ]
    assert keys == [
        "count(purchase,30d)",
        "sum(purchase.amount,365d)",
        "days_since(purchase)",
        "last(purchase.amount)",
    ]


@pytest.mark.parametrize(
    ("text", "offset", "reason"),
    [
        ("(customer.x == 1", 0, "unbalanced parenthesis: '(' is never closed"),
        (
            "customer.x == 1)",
            15,
            "unbalanced parenthesis: ')' has no matching '('",
        ),
        ("count(purchase", 5, "unbalanced parenthesis: '(' is never closed"),
        ("customer.x in [1, 2", 14, "unbalanced bracket: '[' is never closed"),
        (
            "cnt(purchase) > 1",
            0,
            "unknown function 'cnt'; did you mean 'count'? (functions are count, sum,"
            " days_since, last)",
        ),
        ("count(a, 1d, 2d) > 1", 0, "count() takes 1 or 2 arguments (TYPE[, WITHIN]), got 3"),
        ("last() == 1", 0, "last() takes 1 argument (TYPE.PROP), got 0"),
        ("days_since(a, 2d) > 1", 0, "days_since() takes 1 argument (TYPE), got 2"),
        (
            "count(purchase, 3dayz) > 1",
            16,
            "'3dayz' is not a duration (use a whole number and a unit, e.g. 45s, 30m, 12h, 2d, 3w)",
        ),
        (
            "count(purchase, 3000000w) > 1",
            16,
            "count() window '3000000w' is too long (use at most 3650d)",
        ),
        (
            "count(purchase, 99999999999999999999d) > 1",
            16,
            "count() window '99999999999999999999d' is too long (use at most 3650d)",
        ),
        (
            "sum(purchase.amount, 1000000000d) > 1",
            21,
            "sum() window '1000000000d' is too long (use at most 3650d)",
        ),
        (
            "count(purchase, 0h) == 0",
            16,
            "count() window '0h' is empty: a 0 window is always empty "
            "(leave it out for all time, or use e.g. 30d)",
        ),
        (
            "customer.wait < 99999999999999999999d",
            16,
            "'99999999999999999999d' is too long (use at most 3650d)",
        ),
        ("count(purchase, 30) > 1", 16, "count() WITHIN must be a duration like 30d, got '30'"),
        ("sum(purchase) > 1", 4, "sum() needs an event property, like sum(purchase.amount)"),
        (
            "count(purchase.amount) > 1",
            6,
            "count() takes an event type, not a property: 'purchase.amount'",
        ),
        (
            "custmer.tier == 1",
            0,
            "unknown scope 'custmer' in 'custmer.tier'; did you mean 'customer'?"
            " (names are customer.<field> or event.<property>)",
        ),
        (
            "tier == 1",
            0,
            "unknown name 'tier' (names are customer.<field> or event.<property>)",
        ),
        ('customer.name == "abc', 17, "unterminated string: '\"' is never closed"),
        (
            "customer.x == 1 customer.y",
            16,
            "unexpected 'customer.y' after a complete condition"
            " (join conditions with 'and' / 'or')",
        ),
        ("customer.x = 1", 11, "unexpected character '='; use == to compare"),
        (
            "customer.a < customer.b < 3",
            24,
            "comparisons cannot be chained ('<'); join them with 'and'",
        ),
        ("customer.x ==", 13, "expected a value, got the end of the condition"),
        ("", 0, "empty condition"),
        # mistakes brought from other languages get the fix
        (
            "customer.tier == gold",
            17,
            "unknown name 'gold' (names are customer.<field> or event.<property>);"
            ' put text in quotes: "gold"',
        ),
        (
            "customer.score > 1e5",
            17,
            "'1e5' is not a number or a duration (write numbers as digits, e.g. 100000)",
        ),
        (
            "customer.score > 2.5e-5",
            17,
            "'2.5e-5' is not a number or a duration (write numbers as digits, e.g. 0.000025)",
        ),
        (
            "customer.tier == \u201cgold\u201d",
            17,
            "unexpected character '\u201c'; use straight quotes (\")",
        ),
        (
            "customer.tier == \u2018gold\u2019",
            17,
            "unexpected character '\u2018'; use straight quotes (\")",
        ),
        ("customer.a && customer.b", 11, "unexpected character '&'; use and to join conditions"),
        ("customer.a || customer.b", 11, "unexpected character '|'; use or to join conditions"),
        ("!customer.a", 0, "unexpected character '!'; use not (or != to compare)"),
        ("customer.a \u2265 1", 11, "unexpected character '\u2265'; use >="),
        ("customer.a \u2264 1", 11, "unexpected character '\u2264'; use <="),
        ("customer.a \u2260 1", 11, "unexpected character '\u2260'; use !="),
        ("customer.a AND customer.b", 11, "'AND' is written in lower case: and"),
        ("customer.a OR customer.b", 11, "'OR' is written in lower case: or"),
        ("NOT customer.a", 0, "'NOT' is written in lower case: not"),
        ("customer.a == TRUE", 14, "'TRUE' is written in lower case: true"),
        ("customer.a == False", 14, "'False' is written in lower case: false"),
        ('customer.tier in ("a", "b")', 17, 'lists use square brackets: ["a", "b"]'),
        ("customer.n not in (1, 2)", 18, "lists use square brackets: [1, 2]"),
        ("customer.a.b == 1", 0, "'customer.a.b' has too many parts; use customer.<field>"),
    ],
)
def test_error_messages(text: str, offset: int, reason: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    assert (caught.value.offset, caught.value.reason) == (offset, reason)
    assert str(caught.value) == reason
    assert isinstance(caught.value, RapportError)


_WORDS = ["customer.x", "event.y", "count", "sum", "and", "or", "not", "in", "contains"]
_ALPHABET = st.sampled_from(
    [*"()[],.-=!<>\"' \\", *_WORDS, "1", "2d", "3x", "null", "a", "0d", "99999999999999999999w"]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.lists(_ALPHABET, max_size=12).map(" ".join)))
def test_random_text_only_ever_raises_condition_error(text: str) -> None:
    try:
        parse_condition(text)
    except ConditionError as error:
        assert 0 <= error.offset <= len(text)


DEEP = "conditions nest too deeply (at most 50 levels); simplify the condition"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("(" * 150 + "customer.x == 1" + ")" * 150, 50),
        ("not " * 150 + "customer.x", 200),
        ("customer.x in " + "[" * 150 + "]" * 150, 64),
        ("not (" * 30 + "customer.x" + ")" * 30, 125),
    ],
)
def test_deep_nesting_is_refused_not_a_recursion_error(text: str, offset: int) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    assert (caught.value.offset, caught.value.reason) == (offset, DEEP)


def test_fifty_levels_are_allowed() -> None:
    expr = parse_condition("(" * 50 + "customer.x == 1" + ")" * 50)
    assert expr == Compare("==", Name("customer", "x"), Literal(1))


def test_windows_up_to_ten_years_are_allowed() -> None:
    assert parse_condition("count(purchase, 3650d) >= 1") == Compare(
        ">=", Aggregate("count", "purchase", None, timedelta(days=3650)), Literal(1)
    )


def test_durations_too_large_for_python_are_too_long() -> None:
    from engine.durations import parse_duration

    with pytest.raises(ValueError, match=r"^'99999999999999999999d' is too long \(use at most"):
        parse_duration("99999999999999999999d")


@settings(max_examples=200, deadline=None)
@given(conditions)
def test_printing_round_trips(expr) -> None:
    assert parse_condition(pretty(expr)) == expr
