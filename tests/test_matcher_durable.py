"""The durable_rules backend by example: sessions, batches, fallbacks, errors."""

from __future__ import annotations

import pytest

from engine.conditions import Facts, parse_condition
from engine.matcher import MatchRequest, make_matcher
from engine.matcher.durable import DurableMatcher, _shared_host

CONDITIONS = {
    "first-buy": 'event.type == "purchase" and event.ordinal == 1 and event.amount >= 20',
    "winback": "days_since(purchase) >= 120 and count(purchase) >= 2",
    "vip": 'customer.tier in ["gold"] and not (customer.opted_out == true)',
    "pricing": 'event.page contains "/pricing?"',
    "bigger": "event.amount > customer.usual",  # name vs name: reference fallback
}
PARSED = {name: parse_condition(text) for name, text in CONDITIONS.items()}


def requests_for(number: int) -> list[MatchRequest]:
    customer = {"tier": "gold" if number % 2 else "silver", "usual": 10}
    aggregates = {"days_since(purchase)": 130 if number % 3 else 5, "count(purchase)": 2}
    names = frozenset(CONDITIONS)
    events = [
        {"type": "purchase", "ordinal": 1, "amount": 25, "page": "/pricing?x"},
        {"type": "visit", "ordinal": 3, "amount": 5, "page": "/home"},
    ]
    return [MatchRequest(str(number), Facts(customer, None, aggregates), names)] + [
        MatchRequest(str(number), Facts(customer, event, aggregates), names) for event in events
    ]


def test_answers_equal_the_reference_over_many_sessions() -> None:
    durable, reference = make_matcher(PARSED), make_matcher(PARSED, backend="reference")
    requests = [r for n in range(1500) for r in requests_for(n)]  # more than 1024 sessions
    assert durable.match(requests) == reference.match(requests)
    everything = frozenset({"first-buy", "winback", "vip", "pricing", "bigger"})
    assert durable.match(requests_for(1))[1] == everything


def test_sessions_are_deleted_after_each_customer() -> None:
    matcher = DurableMatcher(PARSED)
    matcher.match([r for n in range(5) for r in requests_for(n)])
    with pytest.raises(Exception, match="Could not get state"):
        _shared_host().get_state(matcher._ruleset, "1")


def test_only_requested_conditions_are_answered() -> None:
    matcher = DurableMatcher(PARSED)
    request = requests_for(1)[1]
    narrowed = MatchRequest(request.customer_id, request.facts, frozenset({"winback"}))
    assert matcher.match([narrowed]) == [frozenset({"winback"})]


def test_fallbacks_are_explicit() -> None:
    matcher = DurableMatcher(PARSED)
    assert matcher.fallback_reasons == {"bigger": "a name compared with another name"}
    negated = DurableMatcher({"n": parse_condition('not (customer.name contains "x")')})
    assert "not contains" in negated.fallback_reasons["n"]


def test_contains_a_backslash_is_answered_by_reference() -> None:
    """durable_rules' regex has no literal backslash: '[\\]' also matched a '"'."""
    matcher = DurableMatcher({"b": parse_condition('customer.name contains "\\\\"')})
    assert "contains' with" in matcher.fallback_reasons["b"]
    names = ['"', "a\\b"]
    requests = [MatchRequest(n, Facts({"name": n}, None, {}), frozenset("b")) for n in names]
    assert matcher.match(requests) == [frozenset(), frozenset("b")]


def test_unknown_conditions_are_an_error() -> None:
    request = MatchRequest("1", Facts({}, None, {}), frozenset({"nope"}))
    with pytest.raises(KeyError, match="nope"):
        DurableMatcher(PARSED).match([request])


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown matcher backend 'drools'"):
        make_matcher(PARSED, backend="drools")
