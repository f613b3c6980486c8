"""Numbers durable_rules cannot read exactly never reach it (its C JSON reader segfaults
on 5e-05 and is inexact beyond 2**53); the reference evaluator answers instead."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import RunCli
from evaluation_helpers import World, at, cadence, write_project

from engine.conditions import Compare, Facts, Literal, Name, parse_condition
from engine.history.db import Database
from engine.matcher import MatchRequest
from engine.matcher.durable import DurableMatcher

UNSAFE = [5e-05, 1e16, 1e22, -1e-300, 2**53 + 1, 2**63, -(2**63), 2**64 + 1, 10**30]
SAFE = [0.0001, 0.5, 123456789.125, 2**53, -(2**53), 0, -1]


def _ask(matcher: DurableMatcher, customer: dict[str, object]) -> frozenset[str]:
    facts = Facts(customer, {"amount": customer.get("x")}, {})
    return matcher.match([MatchRequest("1", facts, frozenset(matcher.conditions))])[0]


@pytest.mark.parametrize("number", UNSAFE)
def test_unsafe_literals_fall_back_with_a_reason(number: float) -> None:
    condition = Compare(">", Name("customer", "x"), Literal(number))
    matcher = DurableMatcher({"c": condition})
    assert matcher.fallback_reasons == {
        "c": f"the number {number!r} cannot be passed to durable_rules exactly"
    }
    assert _ask(matcher, {"x": abs(number) * 2 + 1}) == frozenset({"c"})
    assert _ask(matcher, {"x": number}) == frozenset()


@pytest.mark.parametrize("number", SAFE)
def test_safe_literals_stay_in_durable(number: float) -> None:
    matcher = DurableMatcher({"c": Compare("==", Name("customer", "x"), Literal(number))})
    assert matcher.fallback_reasons == {}
    assert _ask(matcher, {"x": number}) == frozenset({"c"})


@pytest.mark.parametrize("number", UNSAFE)
def test_unsafe_fact_values_are_answered_by_the_reference(number: float) -> None:
    conditions = {
        "more": parse_condition("customer.x > 1"),
        "less": parse_condition("customer.x < 1"),
        "event": parse_condition("event.amount == 1"),
        "nothing": parse_condition("customer.y == 3"),
    }
    matcher = DurableMatcher(conditions)
    expected = {"more"} if number > 1 else {"less"}
    assert _ask(matcher, {"x": number}) == frozenset(expected)
    # Only the customer with the unreadable value leaves durable; the others stay.
    plain = Facts({"x": 5, "y": 3}, {"amount": 1}, {})
    huge = Facts({"x": 5, "y": 3}, {"amount": number}, {})
    answers = matcher.match(
        [
            MatchRequest("2", plain, frozenset(conditions)),
            MatchRequest("2", huge, frozenset(conditions)),
        ]
    )
    assert answers == [frozenset({"more", "event", "nothing"}), frozenset({"more", "nothing"})]


def test_tiny_durations_are_answered_by_the_reference() -> None:
    matcher = DurableMatcher({"c": parse_condition("customer.wait < 1s")})
    assert _ask(matcher, {"x": 1, "wait": timedelta(microseconds=1)}) == frozenset({"c"})


def test_preview_with_a_tiny_score_does_not_crash(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    """The reviewer's segfault: customer.score = 0.00005 with `when: customer.score > 1`."""
    rules = {
        "scored": cadence("scored", "when: customer.score > 1", "- name: hi\n  template: t.j2\n")
    }
    world = World(db, write_project(tmp_path, rules))
    world.customer("tiny", score=0.00005)
    world.customer("huge", score=1e22)
    world.customer("wide", score=2**64 + 1)
    code, out, err = run_cli("preview", "--at", at(1).isoformat(), "--all", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    planned = {row["customer_id"] for row in rows if row["decision"] == "planned"}
    assert planned == {"huge", "wide"}
