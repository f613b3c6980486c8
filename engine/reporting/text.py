"""The report as plain text for the terminal: what was measured, how, and the tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from engine.durations import format_duration
from engine.reporting.statistics import RATE_METHOD, REVENUE_METHOD, RateComparison
from engine.reporting.tables import PRIMARY, SECONDARY, MeasurementReport, Row

HEADER = (
    "group",
    "treated",
    "control",
    "rate T",
    "rate C",
    "lift (95% CI)",
    "incr. resp.",
    "incr. revenue (95% CI)",
    "sent",
    "queued/unknown",
    "cost",
    "ROI",
)


def window_text(window: timedelta) -> str:
    days = window / timedelta(days=1)
    return f"{days:g} days" if days >= 1 else format_duration(window)


def cost_text(cost: float) -> str:
    if cost <= 0:
        return (
            "Cost: report.cost_per_message is 0, so no ROI; queued or unknown messages are "
            "counted apart, never as sent."
        )
    return (
        f"Cost: {cost:g} per sent message; queued or unknown messages are counted apart, "
        "never as sent."
    )


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def points(comparison: RateComparison) -> str:
    """'+4.0 pts [+1.9, +6.1]', or why there is no lift."""
    if comparison.lift is None or comparison.interval is None:
        return comparison.note or "lift unknown"
    low, high = comparison.interval
    return f"{comparison.lift * 100:+.1f} pts [{low * 100:+.1f}, {high * 100:+.1f}]"


def money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def whole(value: float) -> str:
    return f"{value:,.0f}"


def _revenue(row: Row) -> str:
    """Whole units: the interval of a revenue estimate is far wider than a cent."""
    revenue = row.incremental_revenue
    if revenue is None:
        return row.revenue.note or "-"
    interval = row.revenue.interval
    if interval is None:
        return whole(revenue)
    n = row.lift.treatment_n
    return f"{whole(revenue)} [{whole(interval[0] * n)}, {whole(interval[1] * n)}]"


def cells(label: str, row: Row) -> tuple[str, ...]:
    c = row.lift
    incremental = row.incremental_responses
    roi = row.roi
    return (
        label,
        str(c.treatment_n),
        str(c.control_n),
        percent(c.treatment_rate),
        percent(c.control_rate),
        points(c),
        "-" if incremental is None else f"{incremental:+.0f}",
        _revenue(row),
        str(row.messages.sent),
        f"{row.messages.queued}/{row.messages.unknown}",
        money(row.cost),
        "-" if roi is None else f"{roi * 100:+.0f}%",
    )


def table(rows: Iterable[tuple[str, ...]]) -> list[str]:
    rows = [HEADER, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    return [line.rstrip() for line in lines]


def render_text(report: MeasurementReport) -> str:
    s = report.settings
    lines = [
        f"Responses: {', '.join(s.responses)} within {window_text(s.window)} of the "
        "message (for controls: of when it would have been sent).",
        f"Primary: {PRIMARY}.",
        f"Lift: response rate, treatment − control, in points, with {RATE_METHOD} (95%).",
        f"Revenue: sum of {s.value_property} of responses; interval: {REVENUE_METHOD}.",
        cost_text(s.cost_per_message),
    ]
    if report.maturing:
        lines.append(f"Left out: {report.maturing} steps whose response window is still open.")
    if not report.cadences:
        lines += ["", "No enrolment has a closed response window in this period."]
        return "\n".join(lines) + "\n"
    rows: list[tuple[str, ...]] = []
    for cadence in report.cadences:
        rows.append(cells(cadence.row.cadence, cadence.row))
        for step in cadence.steps:
            rows.append(cells(f"  step {step.row.step}", step.row))
            rows += [cells(f"    variant {v.variant}", v) for v in step.variants]
    if report.global_holdout is not None:
        rows.append(cells("all vs global holdout", report.global_holdout))
    lines += ["", "Intent-to-treat (primary)", *table(rows)]
    lines += ["", f"Sent only ({SECONDARY.split(': ', 1)[1]})"]
    secondary = []
    for cadence in report.cadences:
        comparison = cadence.row.sent_only
        if comparison is not None:
            secondary.append(
                f"  {cadence.row.cadence}: {comparison.treatment_n} sent, "
                f"rate {percent(comparison.treatment_rate)} vs {percent(comparison.control_rate)}"
                f", lift {points(comparison)}"
            )
    lines += secondary
    pairs = [(c.row.cadence, p) for c in report.cadences for s_ in c.steps for p in s_.pairs]
    if pairs:
        lines += ["", "A/B variants (by the variant of the message planned)"]
        for cadence_name, pair in pairs:
            c = pair.comparison
            lines.append(
                f"  {cadence_name} / {pair.step}: {pair.variant} {percent(c.treatment_rate)} "
                f"(n={c.treatment_n}) vs {pair.baseline} {percent(c.control_rate)} "
                f"(n={c.control_n}): {points(c)}"
            )
    replies = sum(c.row.replies for c in report.cadences)
    lines += ["", f"Engagement (not used for lift): {replies} replies after sent messages."]
    return "\n".join(lines) + "\n"
