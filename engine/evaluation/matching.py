"""Facts for the matcher: per customer, the customer, the trigger event and the aggregates.

Only the aggregates the strategy's conditions and templates name are computed (count, sum,
days_since, last), once per customer per evaluation. Trigger conditions (`where`, `when`) go to the
matcher (durable_rules) in one call per batch; a step's `when` is checked with the
reference evaluator of the same AST when the step is due — which steps are due is known
only while the enrolment state machine runs, and it is rare enough not to need a second
matcher round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from engine.conditions import Aggregate, Facts, HistoryEvent, compute_aggregates, evaluate
from engine.evaluation.records import CustomerHistory, EnrolmentRecord
from engine.evaluation.triggers import TriggerPlan
from engine.facts.model import EventFacts
from engine.matcher import Matcher, MatchRequest, make_matcher
from engine.strategy.model import Cadence, ConditionKey, Step, condition_aggregates


@dataclass(frozen=True)
class FactSheet:
    """One customer's facts at `now`; event facts by event id (with their ordinal)."""

    customer: Mapping[str, Any]
    aggregates: Mapping[str, Any]
    events: Mapping[int, Mapping[str, Any]]

    def facts(self, event_id: int | None) -> Facts:
        event = self.events.get(event_id) if event_id is not None else None
        return Facts(customer=self.customer, event=event, aggregates=self.aggregates)


def customer_mapping(history: CustomerHistory) -> dict[str, Any]:
    """`customer.<field or attribute>`: the fields win over attributes of the same name."""
    c = history.customer
    return {
        **c.attributes,
        "id": c.external_id,
        "handle": c.handle,
        "name": history.name,
        "timezone": c.timezone,
        "kind": c.kind,
        "consent_at": c.consent_at,
    }


def event_mappings(events: Sequence[EventFacts]) -> dict[int, dict[str, Any]]:
    """`event.<property>`, plus type, occurred_at and ordinal (1 = first of its type)."""
    seen: dict[str, int] = {}
    mappings = {}
    for event in events:
        seen[event.type] = seen.get(event.type, 0) + 1
        mappings[event.id] = {
            **event.properties,
            "type": event.type,
            "occurred_at": event.occurred_at,
            "ordinal": seen[event.type],
        }
    return mappings


@dataclass(frozen=True)
class ConditionSet:
    """The strategy's conditions, compiled once: the matcher and what aggregates they need."""

    matcher: Matcher
    keys: Mapping[str, ConditionKey]  # the matcher's names of the trigger conditions
    aggregates: tuple[Any, ...]

    @classmethod
    def of(
        cls, cadences: Sequence[Cadence], *, templates: Iterable[Aggregate] = ()
    ) -> ConditionSet:
        """`templates`: the history values the templates name, computed with the conditions'."""
        triggers = {
            ConditionKey(cadence.name): condition.expr
            for cadence in cadences
            if (condition := cadence.trigger_condition) is not None
        }
        wanted = condition_aggregates(list(cadences)) | frozenset(templates)
        needed = {aggregate.key: aggregate for aggregate in wanted}
        return cls(
            make_matcher({key.name: expr for key, expr in triggers.items()}),
            {key.name: key for key in triggers},
            tuple(needed[key] for key in sorted(needed)),
        )

    @cached_property
    def triggers(self) -> frozenset[str]:
        """Cadence names whose trigger has a condition."""
        return frozenset(key.cadence for key in self.keys.values())

    def facts_of(self, history: CustomerHistory, now: datetime) -> FactSheet:
        events = history.events
        past = [HistoryEvent(e.type, e.occurred_at, e.properties) for e in events]
        aggregates = compute_aggregates(self.aggregates, past, now) if self.aggregates else {}
        return FactSheet(customer_mapping(history), aggregates, event_mappings(events))

    def trigger_matches(
        self,
        histories: Sequence[CustomerHistory],
        sheets: Sequence[FactSheet],
        plans: Sequence[TriggerPlan],
    ) -> list[set[tuple[str, int | None]]]:
        """Which (cadence, event) trigger conditions hold: one matcher call for the batch."""
        requests: list[MatchRequest] = []
        owners: list[tuple[int, int | None]] = []  # (index in batch, event id)
        for index, (history, sheet, plan) in enumerate(zip(histories, sheets, plans, strict=True)):
            by_event: dict[int, set[str]] = {}
            for cadence, events in plan.events.items():
                if cadence in self.triggers:
                    for event in events:
                        by_event.setdefault(event.id, set()).add(ConditionKey(cadence).name)
            for event_id, names in by_event.items():
                requests.append(
                    MatchRequest(str(history.customer.id), sheet.facts(event_id), frozenset(names))
                )
                owners.append((index, event_id))
            whens = {ConditionKey(c).name for c in plan.conditions if c in self.triggers}
            if whens:
                requests.append(
                    MatchRequest(str(history.customer.id), sheet.facts(None), frozenset(whens))
                )
                owners.append((index, None))
        results: list[set[tuple[str, int | None]]] = [set() for _ in histories]
        if requests:
            for (owner, about), held in zip(owners, self.matcher.match(requests), strict=True):
                results[owner].update((self.keys[name].cadence, about) for name in held)
        return results

    def step_holds(self, sheet: FactSheet, enrolment: EnrolmentRecord, step: Step) -> bool:
        """A step's `when` at `now`, with the enrolment's trigger event as `event`."""
        assert step.when is not None
        return evaluate(step.when.expr, sheet.facts(enrolment.trigger_event_id)) is True
