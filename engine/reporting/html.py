"""The report as ONE self-contained HTML file: charts embedded as base64 PNG, styles
inline, no script and no external URL, so it opens offline and can be mailed as is."""

from __future__ import annotations

import base64
from importlib.resources import files

from jinja2 import Environment, select_autoescape

from engine.reporting.statistics import RATE_METHOD, REVENUE_METHOD
from engine.reporting.tables import PRIMARY, SECONDARY, MeasurementReport
from engine.reporting.text import HEADER, cells, cost_text, percent, points, window_text

# The page itself, beside this module (package data).
TEMPLATE = "report.html.j2"

CAPTIONS = {
    "response_curve": "Response rate over days since contact, treatment and control",
    "messages_per_week": "Messages per week by cadence",
    "lift_forest": "Lift with its 95% interval per cadence",
}


def render_html(report: MeasurementReport, charts: dict[str, bytes]) -> str:
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True)
    rows: list[tuple[str, tuple[str, ...]]] = []
    for cadence in report.cadences:
        rows.append(("cadence", cells(cadence.row.cadence, cadence.row)))
        for step in cadence.steps:
            rows.append(("step", cells(f"step {step.row.step}", step.row)))
            rows += [("variant", cells(f"variant {v.variant}", v)) for v in step.variants]
    if report.global_holdout is not None:
        rows.append(("global", cells("all vs global holdout", report.global_holdout)))
    sent_only = [
        (
            c.row.cadence,
            str(only.treatment_n),
            percent(only.treatment_rate),
            percent(only.control_rate),
            points(only),
        )
        for c in report.cadences
        if (only := c.row.sent_only) is not None
    ]
    pairs = [
        (
            f"{c.row.cadence} / {p.step}",
            p.variant,
            percent(p.comparison.treatment_rate),
            str(p.comparison.treatment_n),
            p.baseline,
            percent(p.comparison.control_rate),
            str(p.comparison.control_n),
            points(p.comparison),
        )
        for c in report.cadences
        for s_ in c.steps
        for p in s_.pairs
    ]
    settings = report.settings
    template = files("engine.reporting").joinpath(TEMPLATE).read_text(encoding="utf-8")
    return env.from_string(template).render(
        as_of=report.scope.as_of.strftime("%Y-%m-%d %H:%M UTC"),
        since=report.scope.since.isoformat() if report.scope.since else None,
        until=report.scope.until.isoformat() if report.scope.until else None,
        responses=", ".join(settings.responses),
        window=window_text(settings.window),
        value_property=settings.value_property,
        cost=cost_text(settings.cost_per_message),
        primary=PRIMARY,
        secondary=SECONDARY,
        rate_method=RATE_METHOD,
        revenue_method=REVENUE_METHOD,
        maturing=report.maturing,
        charts=[
            (name, CAPTIONS[name], base64.b64encode(data).decode("ascii"))
            for name, data in charts.items()
        ],
        header=HEADER,
        rows=rows,
        sent_only=sent_only,
        pairs=pairs,
        replies=sum(c.row.replies for c in report.cadences),
    )
