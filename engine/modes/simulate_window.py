"""A simulated window and its result, as `simulate --chart/--html` and `diff` use them.

The replay itself is `engine.modes.simulation.simulate` (the production evaluation on a
simulated ledger); this module calls it through `simulate_window` only, and counts what
came out: messages by day, cadence, step and week, and the steps that waited for a cap
or quiet hours. After the last stored event the replay simply goes on: the evaluations
past it see no new events, so that part is a forecast for the base as it stands.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from engine.clock import as_utc
from engine.config import Settings
from engine.errors import RapportError
from engine.evaluation.records import DecisionRecord
from engine.evaluation.summary import Summary
from engine.history.db import Database
from engine.history.models import Event
from engine.ledger.decisions import DecisionOutcome, Reason

DEFAULT_DAYS = 30
CAPS, QUIET, OTHER = "caps", "quiet hours", "other"
WAIT_KINDS = {
    Reason.CAP: CAPS,
    Reason.CADENCE_CAP: CAPS,
    Reason.MIN_GAP: CAPS,
    Reason.QUIET_HOURS: QUIET,
}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    every: timedelta

    @property
    def evaluations(self) -> int:
        return int((self.end - self.start) / self.every) + 1


def last_stored_event(db: Database) -> datetime | None:
    with db.read() as session:
        latest = session.scalar(select(func.max(Event.occurred_at)))
    return None if latest is None else as_utc(latest)


def default_window(
    db: Database,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    every: timedelta = timedelta(days=1),
) -> Window:
    """What is not given: the 30 days up to the last stored event, one evaluation a day."""
    if end is None:
        if start is not None:
            end = start + timedelta(days=DEFAULT_DAYS)
        else:
            latest = last_stored_event(db)
            if latest is None:
                raise RapportError(
                    "no stored events to pick a window from",
                    hint="import events, or give --start and --end",
                )
            end = latest
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS)
    if end < start:
        raise RapportError(f"--end {end.isoformat()} is before --start {start.isoformat()}")
    return Window(start, end, every)


@dataclass(frozen=True)
class Simulation:
    """Every evaluation's summary and decisions over one window."""

    window: Window
    summaries: list[Summary]
    decisions: list[DecisionRecord]
    last_event: datetime | None = None
    planned: list[DecisionRecord] = field(init=False)

    def __post_init__(self) -> None:
        messages = [d for d in self.decisions if d.outcome is DecisionOutcome.PLANNED]
        object.__setattr__(self, "planned", messages)

    def days(self) -> list[date]:
        first, last = self.window.start.date(), self.window.end.date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def cadences(self) -> list[str]:
        return sorted({d.cadence for d in self.planned})

    def per_day(self) -> dict[str, Counter[date]]:
        """Messages per cadence per (UTC) day of the evaluation that planned them."""
        counts: dict[str, Counter[date]] = {c: Counter() for c in self.cadences()}
        for d in self.planned:
            counts[d.cadence][d.decided_at.date()] += 1
        return counts

    def _step_days(self) -> dict[date, dict[tuple[int, str, str | None], set[str]]]:
        """Per day, each due step (sent or waiting that day) and the reasons it waited."""
        days: dict[date, dict[tuple[int, str, str | None], set[str]]] = {}
        for d in self.decisions:
            if d.outcome in (DecisionOutcome.PLANNED, DecisionOutcome.DEFERRED):
                steps = days.setdefault(d.decided_at.date(), {})
                reasons = steps.setdefault((d.customer_id, d.cadence, d.step), set())
                if d.outcome is DecisionOutcome.DEFERRED:
                    reasons.add(WAIT_KINDS.get(d.reason, OTHER))
        return days

    def deferred_per_day(self) -> dict[str, Counter[date]]:
        """Due steps that waited that day, by kind: "caps", "quiet hours" or "other".

        A step counts once a day however many evaluations it waited through, so hourly and
        daily replays say the same thing. A step that also waited for another reason
        (consent, a text to fix) counts as "other": caps and quiet hours only delayed it
        when nothing else held it."""
        counts: dict[str, Counter[date]] = {kind: Counter() for kind in (CAPS, QUIET, OTHER)}
        for day, steps in self._step_days().items():
            for reasons in steps.values():
                if reasons:
                    kind = OTHER if OTHER in reasons else CAPS if CAPS in reasons else QUIET
                    counts[kind][day] += 1
        return counts

    def waited_shares(self) -> dict[str, list[float]]:
        """Per day and kind, the % of that day's due steps that waited."""
        step_days = self._step_days()
        waited = self.deferred_per_day()
        totals = [len(step_days.get(day, ())) for day in self.days()]
        return {
            kind: [
                100 * counts[day] / n if n else 0.0
                for day, n in zip(self.days(), totals, strict=True)
            ]
            for kind, counts in waited.items()
        }

    def per_week(self) -> dict[tuple[str, str], Counter[date]]:
        """Messages per (cadence, step) per week, keyed by the week's Monday."""
        counts: dict[tuple[str, str], Counter[date]] = {}
        for d in self.planned:
            counts.setdefault((d.cadence, d.step or ""), Counter())[monday_of(d.decided_at)] += 1
        return counts

    def totals(self) -> dict[str, int]:
        waited = self.deferred_per_day()
        return {
            "messages": len(self.planned),
            "customers": len({d.customer_id for d in self.planned}),
            "evaluations": len(self.summaries),
            "waits_for_caps": sum(waited[CAPS].values()),
            "waits_for_quiet_hours": sum(waited[QUIET].values()),
            "waits_for_other_reasons": sum(waited[OTHER].values()),
        }


def simulate_window(db: Database, settings: Settings, window: Window) -> Simulation:
    """The one call into the simulation entry point (engine.modes.simulation.simulate)."""
    from engine.modes.simulation import simulate

    summaries, decisions = simulate(
        db, settings, start=window.start, end=window.end, every=window.every
    )
    return Simulation(window, summaries, decisions, last_stored_event(db))


def monday_of(moment: date | datetime) -> date:
    day = moment.date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


def weeks_of(simulation: Simulation) -> list[date]:
    """The Mondays of the weeks the window touches."""
    return sorted({monday_of(d) for d in simulation.days()})
