"""Type checks: every problem at once, each with its exact message."""

from __future__ import annotations

import pytest

from engine.conditions import check_condition, parse_condition


def problems(text: str, *, event_allowed: bool = True) -> list[tuple[int, str]]:
    found = check_condition(parse_condition(text), event_allowed=event_allowed)
    return [(p.offset, p.reason) for p in found]


def test_a_good_condition_has_no_problems() -> None:
    text = 'event.ordinal == 1 and customer.tier in ["gold"] and count(purchase, 30d) >= 2'
    assert problems(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'count(purchase) > "gold"',
            [(0, 'cannot compare a number (count(purchase)) with text ("gold")')],
        ),
        (
            "days_since(purchase) > 30d",
            [
                (
                    0,
                    "cannot compare a number (days_since(purchase)) with a duration (30d);"
                    " days_since() is a number of days, compare it with a number like 30",
                )
            ],
        ),
        (
            "count(purchase)",
            [(0, "count(purchase) is not a condition; compare it, e.g. count(purchase) >= 1")],
        ),
        (
            "customer.x == null",
            [(0, "== null is always false (any comparison with null is false)")],
        ),
        (
            "days_since(purchase) == null",
            [
                (
                    0,
                    "== null is always false (any comparison with null is false);"
                    " to test for no purchase use count(purchase) == 0",
                )
            ],
        ),
        (
            "last(reply.text) != null",
            [
                (
                    0,
                    "!= null is always false (any comparison with null is false);"
                    " to test for no reply use count(reply) == 0",
                )
            ],
        ),
        ("customer.x in customer.y", [(14, "'in' needs a list, like [1, 2]")]),
        ("customer.n contains 5", [(20, "'contains' needs a text literal on its right")]),
        ('count(a) contains "x"', [(0, "'contains' needs text on its left, got number")]),
        ("customer.b < true", [(0, "true/false cannot be ordered with '<'")]),
        ("customer.x == [1]", [(0, "a list can only follow 'in' or 'not in', not '=='")]),
        ("event.ordinal in [1, event.x]", [(21, "list items must be literals")]),
        ("5", [(0, "5 is not a condition (expected something true or false)")]),
        (
            "(customer.x > 1) == true",
            [(1, "a condition cannot be compared; combine with and/or/not")],
        ),
    ],
)
def test_problem_messages(text: str, expected: list[tuple[int, str]]) -> None:
    assert problems(text) == expected


def test_event_names_need_a_trigger_event_and_all_problems_are_reported() -> None:
    text = 'event.amount > 5 or count(x) == "a" or event.type == "visit"'
    assert problems(text, event_allowed=False) == [
        (
            0,
            "event.amount needs a trigger event and this condition has none"
            " (use a history function, e.g. last(TYPE.PROP))",
        ),
        (20, 'cannot compare a number (count(x)) with text ("a")'),
        (
            39,
            "event.type needs a trigger event and this condition has none"
            " (use a history function, e.g. last(TYPE.PROP))",
        ),
    ]
