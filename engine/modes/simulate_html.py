"""One self-contained HTML page of a simulated window: summary, charts, a weekly table.

Self-contained means no network: the charts are PNGs embedded as base64 data, the style
sits in the page, there is no script and no link. It can be mailed, archived or opened
on a machine without access to anything.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

from engine.durations import format_duration
from engine.evaluation.records import json_safe
from engine.modes.simulate_window import Simulation, weeks_of

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
p.sub { color: #666; margin-top: 0; }
.cards { display: flex; gap: 0.8rem; flex-wrap: wrap; margin: 1.2rem 0; }
p.legend { color: #666; font-size: 0.85rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.7rem 1rem; flex: 1 1 0;
        min-width: 6rem; }
.card b { display: block; font-size: 1.5rem; }
.card span { color: #666; font-size: 0.85rem; }
img { max-width: 100%; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.3rem 0.6rem; text-align: right;
         white-space: nowrap; }
div.scroll { overflow-x: auto; }
p.note { background: #fff8e1; border-left: 4px solid #E69F00; padding: 0.5rem 0.8rem; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
tr.total td { font-weight: bold; border-top: 2px solid #999; }
td.zero { color: #bbb; }
"""


def image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _cards(simulation: Simulation) -> str:
    totals = simulation.totals()
    items = [
        (totals["messages"], "messages"),
        (totals["customers"], "customers contacted"),
        (totals["evaluations"], "evaluations"),
        (totals["waits_for_caps"], "step-days held by caps"),
        (totals["waits_for_quiet_hours"], "step-days held by quiet hours"),
        (totals["waits_for_other_reasons"], "step-days held otherwise"),
    ]
    cells = "".join(
        f'<div class="card"><b>{value:,}</b><span>{escape(label)}</span></div>'
        for value, label in items
    )
    return f'<div class="cards">{cells}</div>'


def weekly_table(simulation: Simulation) -> str:
    """Messages by cadence and step (rows) per ISO week (columns), with totals."""
    weeks = weeks_of(simulation)
    per_week = simulation.per_week()
    head = "".join(f"<th>{w:%b %d}</th>" for w in weeks)
    rows = []
    for (cadence, step), counts in sorted(per_week.items()):
        cells = "".join(_count(counts.get(w, 0)) for w in weeks)
        total = sum(counts.values())
        rows.append(
            f"<tr><td>{escape(cadence)}</td><td>{escape(step)}</td>{cells}<td>{total:,}</td></tr>"
        )
    sums = [sum(c.get(w, 0) for c in per_week.values()) for w in weeks]
    total_cells = "".join(f"<td>{n:,}</td>" for n in sums)
    rows.append(f'<tr class="total"><td>all</td><td></td>{total_cells}<td>{sum(sums):,}</td></tr>')
    return (
        '<div class="scroll"><table><thead><tr><th>cadence</th><th>step</th>'
        f"{head}<th>total</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _quiet_note(simulation: Simulation) -> str:
    """Evaluations at one hour of the day can fall in the same customers' quiet hours
    every time: their steps wait until they expire. Say so when it dominates."""
    totals = simulation.totals()
    if totals["waits_for_quiet_hours"] <= totals["messages"] or simulation.window.every.days < 1:
        return ""
    return (
        '<p class="note">More steps waited for quiet hours than were sent. With one'
        " evaluation a day at the same hour, customers whose local time is then inside quiet"
        " hours are never reached in this simulation; the daemon evaluates every few minutes."
        " Simulate with a shorter --every (1h) for the volume a running daemon would send.</p>"
    )


def _count(n: int) -> str:
    return '<td class="zero">0</td>' if n == 0 else f"<td>{n:,}</td>"


def simulation_page(
    simulation: Simulation, *, charts: Sequence[tuple[str, bytes]], title: str = "Simulation"
) -> str:
    """The page: summary cards, the charts, the weekly table."""
    window = simulation.window
    last = simulation.last_event
    forecast = ""
    if last is not None and last < window.end:
        forecast = (
            f" The last stored event is {escape(str(json_safe(last)))}: after it, the replay is"
            " a forecast for the customers as they stand (no new events)."
        )
    every = escape(format_duration(window.every))
    subtitle = (
        f"From {escape(str(json_safe(window.start)))} to {escape(str(json_safe(window.end)))},"
        f" one evaluation every {every}, on the stored history with a simulated ledger"
        f" (nothing was sent or written).{forecast}"
    )
    figures = "".join(f"<h2>{escape(name)}</h2>{image(png, name)}" for name, png in charts)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="sub">{subtitle}</p>'
        f"{_cards(simulation)}"
        '<p class="legend">A step-day is one due step on one day: a step that waits through'
        " many evaluations of a day counts once. Caps include min_gap; held otherwise means"
        " by consent, a text to fix or another policy stage.</p>"
        f"{_quiet_note(simulation)}{figures}"
        "<h2>Messages by cadence and step, per week (weeks start on Monday)</h2>"
        f"{weekly_table(simulation)}"
        "</body></html>\n"
    )


def write_simulation_files(
    simulation: Simulation, *, chart: str | None, html: str | None, title: str = "Simulation"
) -> list[str]:
    """`simulate --chart/--html`: the PNG and the page (with the same chart); what was written."""
    from pathlib import Path

    from engine.errors import RapportError
    from engine.modes.simulate_charts import messages_chart

    png = messages_chart(simulation)
    written = []
    for path, content in ((chart, png), (html, None)):
        if path is None:
            continue
        try:
            if content is None:
                page = simulation_page(simulation, charts=[("Messages per day", png)], title=title)
                Path(path).write_text(page, encoding="utf-8")
            else:
                Path(path).write_bytes(content)
        except OSError as exc:
            raise RapportError(f"{path}: cannot write ({exc.strerror})") from None
        written.append(path)
    return written
