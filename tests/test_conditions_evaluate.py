"""Reference evaluator: the null, kind, not, in and contains rules, by example."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.conditions import Facts, evaluate, parse_condition

FACTS = Facts(
    customer={"age": 41, "tier": "gold", "vip": True, "score": 2.5, "gap": timedelta(hours=1)},
    event={
        "type": "purchase",
        "amount": 20,
        "ordinal": 1,
        "occurred_at": datetime(2025, 1, 1, tzinfo=UTC),
        "code": "7",
    },
    aggregates={"count(purchase)": 3, "days_since(reply)": None},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customer.age > 40 and customer.age <= 41", True),
        ("customer.score == 2.5 and event.amount == 20.0", True),
        ("customer.missing > 1", False),
        ("customer.missing != 1", False),
        ("not (customer.missing > 1)", True),
        ("days_since(reply) >= 0", False),
        ("not days_since(reply) >= 0", True),
        ('customer.age != "41"', True),
        ('customer.age == "41"', False),
        ("event.code > 5", False),
        ('customer.tier in ["gold", "silver"]', True),
        ('customer.tier not in ["silver"]', True),
        ("customer.missing not in [1]", False),
        ('customer.tier contains "ol"', True),
        ('customer.tier contains "OL"', False),
        ('customer.age contains "4"', False),
        ("customer.vip", True),
        ("customer.vip > false", False),
        ("customer.gap < 2h and customer.gap > 30m", True),
        ("customer.gap == 3600", False),
        ("count(purchase) >= 2 or event.nothing == 1", True),
        ('event.type == "purchase" and event.ordinal == 1', True),
    ],
)
def test_semantics(text: str, expected: bool) -> None:
    assert evaluate(parse_condition(text), FACTS) is expected


def test_event_names_are_null_without_an_event() -> None:
    facts = Facts(customer={}, event=None, aggregates={})
    assert evaluate(parse_condition("event.amount > 1"), facts) is False
    assert evaluate(parse_condition("not event.amount > 1"), facts) is True
