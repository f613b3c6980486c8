"""History functions: docs/conditions.md windows, floors and nulls, by example and by property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.conditions import Aggregate, HistoryEvent, compute_aggregates

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def at(days_ago: float, kind: str = "purchase", **props: object) -> HistoryEvent:
    return HistoryEvent(kind, NOW - timedelta(days=days_ago), props)


def test_window_excludes_its_start_and_includes_now() -> None:
    events = [at(30, amount=1), at(29.999, amount=2), at(0, amount=4), at(-1, amount=8)]
    values = compute_aggregates(
        [
            Aggregate("count", "purchase", None, 30 * DAY),
            Aggregate("sum", "purchase", "amount", 30 * DAY),
        ],
        events,
        NOW,
    )
    assert values == {"count(purchase,30d)": 2, "sum(purchase.amount,30d)": 6}


def test_days_since_floors_and_is_null_when_never() -> None:
    events = [at(3.9), at(10, "visit")]
    aggs = [Aggregate("days_since", "purchase"), Aggregate("days_since", "reply")]
    assert compute_aggregates(aggs, events, NOW) == {
        "days_since(purchase)": 3,
        "days_since(reply)": None,
    }


def test_last_sum_and_missing_properties() -> None:
    events = [at(5, amount=10), at(4, amount="n/a"), at(3, note="x"), at(-2, amount=99)]
    aggs = [
        Aggregate("last", "purchase", "amount"),
        Aggregate("sum", "purchase", "amount"),
        Aggregate("sum", "visit", "amount"),
        Aggregate("last", "visit", "amount"),
    ]
    assert compute_aggregates(aggs, events, NOW) == {
        "last(purchase.amount)": None,  # the last purchase (3 days ago) has no amount
        "sum(purchase.amount)": 10,
        "sum(visit.amount)": 0,
        "last(visit.amount)": None,
    }


offsets = st.lists(st.integers(-3 * 86400, 90 * 86400), max_size=12)


@settings(max_examples=200, deadline=None)
@given(offsets, st.integers(0, 60))
def test_count_matches_the_window_definition(seconds_ago: list[int], window_days: int) -> None:
    events = sorted((at(s / 86400) for s in seconds_ago), key=lambda e: e.occurred_at)
    window = window_days * DAY
    agg = Aggregate("count", "purchase", None, window)
    expected = sum(1 for e in events if NOW - window < e.occurred_at <= NOW)
    assert compute_aggregates([agg], events, NOW) == {agg.key: expected}


@settings(max_examples=200, deadline=None)
@given(offsets)
def test_days_since_is_the_floor_of_whole_days(seconds_ago: list[int]) -> None:
    events = sorted((at(s / 86400) for s in seconds_ago), key=lambda e: e.occurred_at)
    value = compute_aggregates([Aggregate("days_since", "purchase")], events, NOW)
    past = [s for s in seconds_ago if s >= 0]
    assert value == {"days_since(purchase)": min(past) // 86400 if past else None}
