"""Charts of a simulated window, drawn headless (matplotlib's Agg: no display needed).

- `messages_chart`: messages per day, stacked by cadence, and below it the share of due
  steps that waited for a cap (or min_gap) and for quiet hours that day;
- `volume_comparison_chart`: the volume per day of two rule versions side by side (diff).

Both return PNG bytes, so the HTML page can embed the very same image.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from engine.modes.simulate_window import CAPS, OTHER, QUIET, Simulation

# Colour-blind-safe (Okabe & Ito), in a fixed order so a cadence keeps its colour.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: never a window, on a server or in CI
    import matplotlib.pyplot as plt

    return plt


def _png(figure: Any) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(figure)
    return out.getvalue()


def _mark_forecast(axis: Any, last_event: datetime | None, days: Sequence[date]) -> None:
    """A dashed line after the last stored event: to its right the replay is a forecast."""
    if last_event is None or not days or not days[0] <= last_event.date() < days[-1]:
        return
    x = days.index(last_event.date()) + 0.5
    axis.axvline(x, color="#555555", linestyle="--", linewidth=1)
    axis.annotate(
        "forecast →",
        xy=(x, 1),
        xycoords=("data", "axes fraction"),
        xytext=(4, -12),
        textcoords="offset points",
        fontsize=8,
        color="#555555",
    )


def _day_ticks(axis: Any, days: Sequence[date]) -> None:
    step = max(1, len(days) // 12)
    positions = list(range(0, len(days), step))
    axis.set_xticks(positions)
    axis.set_xticklabels([days[i].strftime("%b %d") for i in positions], rotation=0, fontsize=8)
    axis.set_xlim(-0.6, len(days) - 0.4)


def messages_chart(simulation: Simulation, *, title: str | None = None) -> bytes:
    plt = _pyplot()
    days = simulation.days()
    per_day = simulation.per_day()
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]}
    )
    base = [0] * len(days)
    for n, (cadence, counts) in enumerate(per_day.items()):
        heights = [counts.get(d, 0) for d in days]
        top.bar(
            range(len(days)), heights, bottom=base, label=cadence, color=PALETTE[n % len(PALETTE)]
        )
        base = [a + b for a, b in zip(base, heights, strict=True)]
    window = f"{days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}" if days else ""
    top.set_title(title or f"Messages per day by cadence, simulated {window}", fontsize=11)
    top.set_ylabel("messages")
    top.grid(axis="y", alpha=0.3)
    top.set_axisbelow(True)
    if per_day:
        top.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    else:
        top.text(0.5, 0.5, "no messages in this window", ha="center", transform=top.transAxes)
    _mark_forecast(top, simulation.last_event, days)
    waited = simulation.deferred_per_day()
    shares = simulation.waited_shares()
    x = range(len(days))
    # Bars, not areas: each day is its own count, nothing in between.
    stacked = [0.0] * len(days)
    for kind, label, colour in (
        (CAPS, "waited for a cap or min_gap", "#D55E00"),
        (QUIET, "waited for quiet hours", "#56B4E9"),
        (OTHER, "waited for another reason (consent, text…)", "#BBBBBB"),
    ):
        total = sum(waited[kind].values())
        bottom.bar(x, shares[kind], bottom=stacked, color=colour, label=f"{label} ({total})")
        stacked = [a + b for a, b in zip(stacked, shares[kind], strict=True)]
    bottom.set_ylim(0, 100)
    bottom.set_ylabel("% of the day's due\nsteps that waited", fontsize=9)
    bottom.grid(axis="y", alpha=0.3)
    bottom.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _mark_forecast(bottom, simulation.last_event, days)
    _day_ticks(bottom, days)
    figure.tight_layout()
    return bytes(_png(figure))


def volume_comparison_chart(old: Simulation, new: Simulation, *, labels: tuple[str, str]) -> bytes:
    """Messages per day, the other version's bar beside the current one's."""
    plt = _pyplot()
    days = new.days()
    figure, axis = plt.subplots(figsize=(10, 4))
    width = 0.42
    for offset, sim, label, colour in (
        (-width / 2, old, f"before: {labels[0]}", "#999999"),
        (width / 2, new, f"after: {labels[1]}", "#0072B2"),
    ):
        totals = [sum(c.get(d, 0) for c in sim.per_day().values()) for d in days]
        axis.bar([i + offset for i in range(len(days))], totals, width, label=label, color=colour)
    axis.set_title("Messages per day: before and after the change", fontsize=11)
    axis.set_ylabel("messages")
    axis.grid(axis="y", alpha=0.3)
    axis.set_axisbelow(True)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _mark_forecast(axis, new.last_event, days)
    _day_ticks(axis, days)
    figure.tight_layout()
    return bytes(_png(figure))
