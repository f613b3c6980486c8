"""History functions (count, sum, days_since, last) over a customer's events (docs/conditions.md).

The pure-Python definition; SQL versions in the history layer must agree with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.conditions.ast import Aggregate
from engine.conditions.values import kind_of

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class HistoryEvent:
    """One past event; sequences of them are sorted by occurred_at, then import order."""

    type: str
    occurred_at: datetime
    properties: Mapping[str, Any] = field(default_factory=dict)


def compute_aggregates(
    aggs: Iterable[Aggregate], events: Sequence[HistoryEvent], now: datetime
) -> dict[str, Any]:
    """Values keyed by Aggregate.key. Only events with occurred_at <= now exist."""
    seen = [event for event in events if event.occurred_at <= now]
    return {agg.key: _aggregate(agg, seen, now) for agg in aggs}


def _aggregate(agg: Aggregate, events: list[HistoryEvent], now: datetime) -> Any:
    of_type = [event for event in events if event.type == agg.event_type]
    if agg.within is not None:
        start = now - agg.within
        of_type = [event for event in of_type if event.occurred_at > start]
    if agg.func == "count":
        return len(of_type)
    if agg.func == "sum":
        return _sum(event.properties.get(agg.prop or "") for event in of_type)
    if not of_type:
        return None
    last = of_type[-1]
    if agg.func == "days_since":
        return (now - last.occurred_at) // _DAY
    return last.properties.get(agg.prop or "")


def _sum(values: Iterable[Any]) -> int | float:
    """Numbers only; missing and non-numeric values are skipped; nothing sums to 0."""
    return sum((value for value in values if kind_of(value) == "number"), 0)
