"""The compiled strategy: frozen, typed objects. After loading, no code sees rule dicts.

Field names follow the rule language (docs/cadences.md) so a marketer reading a traceback or a
golden file recognises every word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from engine.cap import Cap
from engine.conditions.ast import Aggregate, Expr, aggregates_of
from engine.ledger.states import Channel

Audience = Literal["customers", "prospects", "everyone"]


@dataclass(frozen=True)
class Source:
    """Where a thing was written, for messages that point the marketer at it."""

    file: str
    line: int
    col: int = 0


@dataclass(frozen=True)
class Condition:
    """A parsed condition plus its text, kept for explanations ('why not')."""

    text: str
    expr: Expr = field(compare=False)
    source: Source = field(compare=False)


@dataclass(frozen=True)
class EventTrigger:
    event: str  # event type that enrols, e.g. "purchase"
    where: Condition | None = None


@dataclass(frozen=True)
class ConditionTrigger:
    when: Condition


@dataclass(frozen=True)
class DateTrigger:
    attribute: str  # customer attribute holding a date, e.g. "birthday" for customer.birthday


Trigger = EventTrigger | ConditionTrigger | DateTrigger


@dataclass(frozen=True)
class Reentry:
    """never: one enrolment for life; always: any time; after: this long since the last
    began; yearly: once per occurrence of a date trigger's date (its default)."""

    kind: Literal["never", "always", "after", "yearly"]
    after: timedelta | None = None


@dataclass(frozen=True)
class Step:
    name: str
    after: timedelta  # step 1: after enrolment; later steps: after the previous step resolved
    expires: timedelta | None  # None: no upper bound
    templates: tuple[tuple[str, str], ...]  # ((variant, template), ...); one ("", name) without A/B
    fallback: str | None  # template used when the rendered text is over 280
    when: Condition | None  # checked when due; false -> skipped
    unless: str | None  # event type; seen since enrolment -> enrolment exits
    allow_mentions: bool  # other @handles allowed in the text
    source: Source

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(variant for variant, _ in self.templates)


@dataclass(frozen=True)
class Cadence:
    name: str  # the slug, unique across files
    description: str
    audience: Audience
    priority: int  # 0..100, higher wins
    channel: Channel
    trigger: Trigger
    reentry: Reentry
    exit_on: tuple[str, ...]
    holdout: float  # share 0.0..1.0
    cap: Cap | None
    steps: tuple[Step, ...]
    starts: datetime | None  # go-live override (aware UTC)
    source: Source

    @property
    def trigger_condition(self) -> Condition | None:
        """The condition that decides enrolment: an event trigger's `where`, or `when`."""
        trigger = self.trigger
        if isinstance(trigger, EventTrigger):
            return trigger.where
        if isinstance(trigger, ConditionTrigger):
            return trigger.when
        return None


@dataclass(frozen=True, order=True)
class ConditionKey:
    """Which condition: a cadence's trigger condition (`step` None) or a step's `when`.

    The matcher knows conditions by a string `name`; code that gets names back looks the
    key up (`ConditionSet.keys`) instead of parsing the string, so a cadence or step name
    containing "/" can never be misread.
    """

    cadence: str
    step: str | None = None

    @property
    def name(self) -> str:
        """The matcher's name: 'CADENCE/trigger' or 'CADENCE/STEP/when'."""
        if self.step is None:
            return f"{self.cadence}/trigger"
        return f"{self.cadence}/{self.step}/when"


@dataclass(frozen=True)
class Strategy:
    """All cadences in priority order (higher first, then name), plus a content hash."""

    cadences: tuple[Cadence, ...]
    version_hash: str

    def cadence(self, name: str) -> Cadence:
        for cadence in self.cadences:
            if cadence.name == name:
                return cadence
        raise KeyError(name)

    def conditions(self) -> dict[str, Expr]:
        """Every named condition, for the matcher: 'CADENCE/trigger' (the trigger's where
        or when) and 'CADENCE/STEP/when'."""
        named: dict[str, Expr] = {}
        for cadence in self.cadences:
            if (condition := cadence.trigger_condition) is not None:
                named[ConditionKey(cadence.name).name] = condition.expr
            for step in cadence.steps:
                if step.when is not None:
                    named[ConditionKey(cadence.name, step.name).name] = step.when.expr
        return named

    def templates(self) -> tuple[str, ...]:
        """Every template file the strategy names (variants and fallbacks too), sorted."""
        return templates_of(self.cadences)


def templates_of(cadences: tuple[Cadence, ...] | list[Cadence]) -> tuple[str, ...]:
    """Every template file these cadences name (variants and fallbacks too), sorted."""
    names = {
        name
        for cadence in cadences
        for step in cadence.steps
        for name in (*(t for _, t in step.templates), step.fallback)
        if name is not None
    }
    return tuple(sorted(names))


def condition_aggregates(cadences: tuple[Cadence, ...] | list[Cadence]) -> frozenset[Aggregate]:
    """The history values the cadences' conditions (trigger and steps' `when`) read."""
    exprs = [c.trigger_condition.expr for c in cadences if c.trigger_condition is not None]
    exprs += [step.when.expr for c in cadences for step in c.steps if step.when is not None]
    return frozenset(aggregate for expr in exprs for aggregate in aggregates_of(expr))
