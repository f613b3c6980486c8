"""The report's tables: per cadence, step and variant, plus the global holdout.

Every row compares a treatment group with a control group (see responses.py for the
units and statistics.py for the intervals). Incremental responses and revenue are the
lift times the treatment's size; cost is the messages actually sent times
`report.cost_per_message`; ROI = (incremental revenue − cost) / cost.

A cadence's row measures enrolments from their first step (its lift) and counts every
message of the cadence (its cost). A step's row measures that step from its own
resolution. A/B variants are compared by the variant of the message planned (a unit
without a message has no variant) against the cadence's control and against each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.config import Report
from engine.ledger.states import QUEUED, ContactState
from engine.reporting.responses import Scope, Unit, Units
from engine.reporting.statistics import (
    RATE_METHOD,
    REVENUE_METHOD,
    MeanComparison,
    RateComparison,
    compare_means,
    compare_rates,
)

PRIMARY = (
    "intent-to-treat: every enrolment assigned to treatment, whatever happened to its "
    "message, against every held-out enrolment"
)
SECONDARY = (
    "sent only (secondary): treatment units whose message was sent, against every control; "
    "biased when who gets a message is not random"
)
NOT_SENT = frozenset(
    {ContactState.REJECTED, ContactState.FAILED, ContactState.EXPIRED, ContactState.CANCELLED}
)


@dataclass(frozen=True)
class Messages:
    """The treatment's messages by state: only `sent` ones cost money or count as sent."""

    sent: int = 0
    queued: int = 0  # planned, in review, approved, sending: not sent yet
    unknown: int = 0  # the send may or may not have happened (waits for reconciliation)
    not_sent: int = 0  # rejected, failed, expired, cancelled
    none: int = 0  # no message at all (dropped by the policy, expired before planning)

    @classmethod
    def of(cls, units: Iterable[Unit]) -> Messages:
        counts: dict[str, int] = defaultdict(int)
        for unit in units:
            if unit.arm != "treatment":
                continue
            state = unit.message
            if state is None:
                counts["none"] += 1
            elif state is ContactState.SENT:
                counts["sent"] += 1
            elif state is ContactState.UNKNOWN:
                counts["unknown"] += 1
            elif state in QUEUED or state is ContactState.SENDING:
                counts["queued"] += 1
            elif state in NOT_SENT:
                counts["not_sent"] += 1
        return cls(**counts)


@dataclass(frozen=True)
class Row:
    cadence: str
    step: str | None
    variant: str | None
    lift: RateComparison
    revenue: MeanComparison
    messages: Messages
    cost_per_message: float
    sent_only: RateComparison | None = None
    replies: int = 0  # engagement: replies after a sent message, within the window

    @property
    def incremental_responses(self) -> float | None:
        return None if self.lift.lift is None else self.lift.lift * self.lift.treatment_n

    @property
    def incremental_revenue(self) -> float | None:
        diff = self.revenue.difference
        return None if diff is None else diff * self.lift.treatment_n

    @property
    def cost(self) -> float:
        return self.messages.sent * self.cost_per_message

    @property
    def roi(self) -> float | None:
        revenue = self.incremental_revenue
        if revenue is None or self.cost <= 0:
            return None
        return (revenue - self.cost) / self.cost

    def as_json(self) -> dict[str, Any]:
        n = self.lift.treatment_n
        data: dict[str, Any] = {"cadence": self.cadence}
        if self.step is not None:
            data["step"] = self.step
        if self.variant is not None:
            data["variant"] = self.variant
        data |= rate_json(self.lift)
        data |= {
            "incremental_responses": _round(self.incremental_responses),
            "incremental_responses_ci": _scaled(self.lift.interval, n),
            "incremental_revenue": _round(self.incremental_revenue),
            "incremental_revenue_ci": _scaled(self.revenue.interval, n),
            "revenue_note": self.revenue.note,
            "messages_sent": self.messages.sent,
            "messages_queued": self.messages.queued,
            "messages_unknown": self.messages.unknown,
            "messages_not_sent": self.messages.not_sent,
            "no_message": self.messages.none,
            "cost": round(self.cost, 2),
            "roi": _round(self.roi, 4),
            "engagement_replies": self.replies,
        }
        if self.sent_only is not None:
            data["sent_only"] = rate_json(self.sent_only)
        return data


def rate_json(c: RateComparison) -> dict[str, Any]:
    return {
        "treatment_n": c.treatment_n,
        "control_n": c.control_n,
        "treatment_responses": c.treatment_responses,
        "control_responses": c.control_responses,
        "treatment_rate": _round(c.treatment_rate, 6),
        "control_rate": _round(c.control_rate, 6),
        "lift": _round(c.lift, 6),
        "lift_ci": None if c.interval is None else [round(x, 6) for x in c.interval],
        "relative_lift": _round(c.relative_lift, 4),
        "note": c.note,
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _scaled(interval: tuple[float, float] | None, n: int) -> list[float] | None:
    return None if interval is None else [round(x * n, 2) for x in interval]


@dataclass(frozen=True)
class VariantPair:
    """A/B: `variant` against `baseline`, both treatment, by the variant of the message."""

    step: str
    variant: str
    baseline: str
    comparison: RateComparison


@dataclass(frozen=True)
class StepTable:
    row: Row
    variants: tuple[Row, ...] = ()
    pairs: tuple[VariantPair, ...] = ()


@dataclass(frozen=True)
class CadenceTable:
    row: Row
    steps: tuple[StepTable, ...] = ()


@dataclass(frozen=True)
class MeasurementReport:
    scope: Scope
    settings: Report
    cadences: tuple[CadenceTable, ...]
    global_holdout: Row | None
    maturing: int
    pooled: tuple[Unit, ...] = field(default=(), repr=False)  # enrolment units, for charts

    def as_json(self) -> dict[str, Any]:
        from engine.evaluation.records import json_safe

        return {
            "as_of": json_safe(self.scope.as_of),
            "since": json_safe(self.scope.since),
            "until": json_safe(self.scope.until),
            "responses": list(self.settings.responses),
            "window_days": self.settings.window.total_seconds() / 86_400,
            "value_property": self.settings.value_property,
            "cost_per_message": self.settings.cost_per_message,
            "primary": PRIMARY,
            "secondary": SECONDARY,
            "method": {"lift": RATE_METHOD, "revenue": REVENUE_METHOD, "confidence": 0.95},
            "maturing": self.maturing,
            "cadences": [_cadence_json(c) for c in self.cadences],
            "global_holdout": None
            if self.global_holdout is None
            else self.global_holdout.as_json(),
        }


def _cadence_json(table: CadenceTable) -> dict[str, Any]:
    data = table.row.as_json()
    data["steps"] = [
        table_step.row.as_json()
        | {
            "variants": [v.as_json() for v in table_step.variants],
            "ab": [
                {"variant": p.variant, "against": p.baseline} | rate_json(p.comparison)
                for p in table_step.pairs
            ],
        }
        for table_step in table.steps
    ]
    return data


def build_row(
    units: Sequence[Unit],
    *,
    cadence: str,
    step: str | None,
    variant: str | None,
    settings: Report,
    messages: Sequence[Unit] | None = None,
    control_label: str = "control",
) -> Row:
    treated = [u for u in units if u.arm == "treatment"]
    control = [u for u in units if u.arm == "control"]
    sent = [u for u in treated if u.sent]

    def rates(group: Sequence[Unit]) -> RateComparison:
        return compare_rates(
            sum(u.responded for u in group),
            len(group),
            sum(u.responded for u in control),
            len(control),
            control=control_label,
        )

    return Row(
        cadence=cadence,
        step=step,
        variant=variant,
        lift=rates(treated),
        revenue=compare_means([u.revenue for u in treated], [u.revenue for u in control]),
        messages=Messages.of(messages if messages is not None else units),
        cost_per_message=settings.cost_per_message,
        sent_only=rates(sent),
        replies=sum(u.replies for u in sent),
    )


def build_report(units: Units, scope: Scope, settings: Report) -> MeasurementReport:
    by_cadence: dict[str, list[Unit]] = defaultdict(list)
    for unit in units.enrolments:
        by_cadence[unit.cadence].append(unit)
    steps_by_cadence: dict[str, list[Unit]] = defaultdict(list)
    for unit in units.steps:
        steps_by_cadence[unit.cadence].append(unit)
    tables = []
    for cadence in sorted(set(by_cadence) | set(steps_by_cadence)):
        row = build_row(
            by_cadence[cadence],
            cadence=cadence,
            step=None,
            variant=None,
            settings=settings,
            messages=steps_by_cadence[cadence],
        )
        tables.append(CadenceTable(row, _steps(cadence, steps_by_cadence[cadence], settings)))
    return MeasurementReport(
        scope=scope,
        settings=settings,
        cadences=tuple(tables),
        global_holdout=_global(units.enrolments, units.steps, settings),
        maturing=units.maturing,
        pooled=units.enrolments,
    )


def _steps(cadence: str, units: Sequence[Unit], settings: Report) -> tuple[StepTable, ...]:
    by_step: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_step[unit.step].append(unit)
    first_seen = {u.step: u.start for u in sorted(units, key=lambda u: u.start, reverse=True)}
    tables = []
    for step in sorted(by_step, key=lambda s: first_seen[s]):
        group = by_step[step]
        row = build_row(group, cadence=cadence, step=step, variant=None, settings=settings)
        tables.append(StepTable(row, *_variants(cadence, step, group, settings)))
    return tuple(tables)


def _variants(
    cadence: str, step: str, units: Sequence[Unit], settings: Report
) -> tuple[tuple[Row, ...], tuple[VariantPair, ...]]:
    control = [u for u in units if u.arm == "control"]
    named: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.arm == "treatment" and unit.variant:
            named[unit.variant].append(unit)
    if len(named) < 2:
        return (), ()
    rows = tuple(
        build_row(named[v] + control, cadence=cadence, step=step, variant=v, settings=settings)
        for v in sorted(named)
    )
    baseline, *others = sorted(named)
    base = named[baseline]
    pairs = tuple(
        VariantPair(
            step,
            other,
            baseline,
            compare_rates(
                sum(u.responded for u in named[other]),
                len(named[other]),
                sum(u.responded for u in base),
                len(base),
                control=f"variant {baseline}",
            ),
        )
        for other in others
    )
    return rows, pairs


def _global(enrolments: Sequence[Unit], steps: Sequence[Unit], settings: Report) -> Row | None:
    """Everyone treated, in every cadence, against the global holdout."""
    chosen = [u for u in enrolments if u.arm == "treatment" or u.holdout == "global_holdout"]
    if not chosen:
        return None
    return build_row(
        chosen,
        cadence="all cadences",
        step=None,
        variant=None,
        settings=settings,
        messages=steps,
        control_label="global holdout",
    )
