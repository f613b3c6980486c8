"""The report's charts as PNG bytes, drawn headless with matplotlib's Agg canvas.

`Figure` is used directly (not pyplot): no global state, no GUI backend, nothing left
open between charts.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Sequence
from datetime import datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from engine.reporting.responses import Unit
from engine.reporting.tables import MeasurementReport, Row

TREATMENT_COLOUR = "#1f77b4"
CONTROL_COLOUR = "#7f7f7f"
CHART_NAMES = ("response_curve", "messages_per_week", "lift_forest")


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


STEPS_PER_DAY = 4  # the curve's resolution: a quarter of a day


def share_by_time(units: Sequence[Unit], days: int) -> tuple[list[float], list[float]]:
    """(days since contact, cumulative share of `units` that responded by then)."""
    elapsed = sorted(u.responded_after.total_seconds() / 86_400 for u in units if u.responded_after)
    times = [i / STEPS_PER_DAY for i in range(days * STEPS_PER_DAY + 1)]
    if not units:
        return times, [0.0] * len(times)
    shares = [bisect.bisect_right(elapsed, t) / len(units) for t in times]
    return times, shares


def response_curve(report: MeasurementReport) -> bytes:
    """Response rate by days since contact (or would-be contact), treatment vs control."""
    days = max(1, int(report.settings.window.total_seconds() // 86_400))
    figure = Figure(figsize=(7.5, 4))
    axes = figure.add_subplot()
    for arm, colour, label in (
        ("treatment", TREATMENT_COLOUR, "treatment (contacted or assigned)"),
        ("control", CONTROL_COLOUR, "control (held out)"),
    ):
        group = [u for u in report.pooled if u.arm == arm]
        times, shares = share_by_time(group, days)
        axes.plot(times, [s * 100 for s in shares], color=colour, label=f"{label}, n={len(group)}")
    axes.set_xlabel("days since contact (controls: since the would-be contact)")
    axes.set_ylabel("responded (%)")
    axes.set_title(
        f"Cumulative response rate ({', '.join(report.settings.responses)}), all cadences"
    )
    axes.set_xlim(0, days)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    return _png(figure)


def messages_per_week(weekly: dict[str, dict[datetime, int]]) -> bytes:
    """Messages planned per week by cadence (sent, queued or unknown), stacked."""
    figure = Figure(figsize=(7.5, 4))
    axes = figure.add_subplot()
    weeks = sorted({week for by_week in weekly.values() for week in by_week})
    if not weeks:
        axes.text(0.5, 0.5, "no messages in this period", ha="center", va="center")
        axes.set_axis_off()
        return _png(figure)
    bottom = [0] * len(weeks)
    for cadence in sorted(weekly):
        counts = [weekly[cadence].get(week, 0) for week in weeks]
        axes.bar(
            weeks,  # type: ignore[arg-type]  # matplotlib's date units take datetimes
            counts,
            width=6,
            bottom=bottom,
            label=cadence,
            align="edge",
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_ylim(0, max(bottom) * 1.12)  # headroom: the tallest week stays inside the frame
    axes.set_ylabel("messages per week")
    axes.set_xlabel("week beginning (Monday, UTC)")
    axes.set_title("Messages per week by cadence (sent, queued or unknown)")
    axes.legend(loc="upper left", fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    figure.autofmt_xdate()
    return _png(figure)


def _forest_rows(report: MeasurementReport) -> list[Row]:
    rows = [c.row for c in report.cadences]
    if report.global_holdout is not None:
        rows.append(report.global_holdout)
    return rows


def lift_forest(report: MeasurementReport) -> bytes:
    """Lift in points with its 95% interval per cadence (a forest plot)."""
    rows = _forest_rows(report)
    figure = Figure(figsize=(7.5, 1.2 + 0.6 * max(1, len(rows))))
    axes = figure.add_subplot()
    labels = []
    for y, row in enumerate(reversed(rows)):
        global_row = row is report.global_holdout
        labels.append("all cadences vs global holdout" if global_row else row.cadence)
        c = row.lift
        if c.lift is None or c.interval is None:
            axes.text(0, y, f"  {c.note}", va="center", ha="left", color="#a00", fontsize="small")
            continue
        low, high = (x * 100 for x in c.interval)
        axes.plot([low, high], [y, y], color=TREATMENT_COLOUR, linewidth=2)
        axes.plot([c.lift * 100], [y], "s", color=TREATMENT_COLOUR, markersize=7)
        axes.annotate(
            f"{c.lift * 100:+.1f} [{low:+.1f}, {high:+.1f}]",
            (high, y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_ylim(-0.7, len(labels) - 0.3)
    ends = [x * 100 for r in rows if r.lift.interval for x in r.lift.interval] + [0.0]
    low, high = min(ends), max(ends)
    span = (high - low) or 1.0
    axes.set_xlim(low - 0.1 * span, high + 0.45 * span)  # room for the labels on the right
    axes.set_xlabel("lift in response rate (percentage points), 95% Newcombe interval")
    axes.set_title("Lift against control, intent-to-treat")
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def all_charts(
    report: MeasurementReport, weekly: dict[str, dict[datetime, int]]
) -> dict[str, bytes]:
    return {
        "response_curve": response_curve(report),
        "messages_per_week": messages_per_week(weekly),
        "lift_forest": lift_forest(report),
    }
