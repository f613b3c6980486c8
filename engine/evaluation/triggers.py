"""Who may enrol in a cadence, and when (go-live, reentry, one enrolment at a time).

These are pure functions of a customer's history; whether a `where`/`when` condition
holds is asked of the matcher separately, so the matcher only sees the events that
could actually enrol.
"""

from __future__ import annotations

from calendar import isleap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.evaluation.records import CustomerHistory, EnrolmentRecord
from engine.facts.model import EventFacts
from engine.strategy.model import Cadence, ConditionTrigger, DateTrigger, EventTrigger
from engine.zones import zone as cached_zone

_AUDIENCE_KINDS = {"customers": ("customer",), "prospects": ("prospect",)}
# Local midnight of one date falls anywhere in a 26-hour span of UTC instants (UTC+14 to
# UTC-12). When the customer's zone (or the default zone) changes, the same yearly date
# moves to another instant; an enrolment that began within this margin of the new instant
# is taken to be that same occurrence, never a second one (even with `reentry: always`).
SAME_DATE_OCCURRENCE = timedelta(days=2)


def go_live(cadence: Cadence, launches: Mapping[str, datetime], now: datetime) -> datetime:
    """`starts:`, else the first evaluation that saw the cadence, else this one (`now`)."""
    if cadence.starts is not None:
        return cadence.starts
    return launches.get(cadence.name, now)


def audience_allows(cadence: Cadence, kind: str) -> bool:
    kinds = _AUDIENCE_KINDS.get(cadence.audience)
    return kinds is None or kind in kinds


def may_enrol_at(cadence: Cadence, previous: Sequence[EnrolmentRecord], at: datetime) -> bool:
    """No enrolment of the cadence active at `at`, and `reentry` permits one beginning then.

    Never two enrolments beginning at one instant: that is what makes a second run at the
    same `now` enrol nobody, even with `reentry: always`.
    """
    if any(e.active_at(at) or e.entered_at == at for e in previous):
        return False
    if not previous:
        return True
    reentry = cadence.reentry
    if reentry.kind == "never":
        return False
    if reentry.kind in ("always", "yearly"):  # yearly: one per date (`enrolled_for_date`)
        return True
    last_began = max(e.entered_at for e in previous)
    assert reentry.after is not None
    return at - last_began >= reentry.after


@dataclass
class TriggerPlan:
    """What could enrol one customer at this evaluation, before conditions are checked."""

    events: dict[str, list[EventFacts]] = field(default_factory=dict)  # event triggers
    conditions: list[str] = field(default_factory=list)  # when-triggers permitted at now
    dates: dict[str, datetime] = field(default_factory=dict)  # date triggers: the instant


def plan_triggers(
    history: CustomerHistory,
    cadences: Sequence[Cadence],
    go_lives: Mapping[str, datetime],
    now: datetime,
) -> TriggerPlan:
    plan = TriggerPlan()
    for cadence in cadences:
        if not audience_allows(cadence, history.customer.kind):
            continue
        previous = history.enrolments_of(cadence.name)
        trigger = cadence.trigger
        if isinstance(trigger, EventTrigger):
            events = event_candidates(
                history.events, trigger.event, previous, go_lives[cadence.name]
            )
            permitted = [e for e in events if may_enrol_at(cadence, previous, e.occurred_at)]
            if permitted:
                plan.events[cadence.name] = permitted
        elif isinstance(trigger, ConditionTrigger):
            if now >= go_lives[cadence.name] and may_enrol_at(cadence, previous, now):
                plan.conditions.append(cadence.name)
        elif isinstance(trigger, DateTrigger):
            value = history.customer.attributes.get(trigger.attribute)
            timezone = history.customer.timezone
            instant = date_instant(value, timezone, now)
            if (
                instant is not None
                and instant >= date_live_from(go_lives[cadence.name], timezone)
                and not enrolled_for_date(previous, instant)
                and may_enrol_at(cadence, previous, instant)
            ):
                plan.dates[cadence.name] = instant
    return plan


def date_live_from(go_live: datetime, timezone: str) -> datetime:
    """A date trigger is live from the local midnight of its go-live day: a birthday on
    the day a cadence goes live is honoured that day, not lost for the year because the
    first evaluation came some hours after midnight."""
    day = go_live.astimezone(cached_zone(timezone)).date()
    return _local_midnight(day.year, day.month, day.day, cached_zone(timezone))


def next_date_instant(value: object, timezone: str, after: datetime) -> datetime | None:
    """The first local midnight of the value's month and day later than `after`."""
    month_day = _month_day(value)
    if month_day is None:
        return None
    zone = cached_zone(timezone)
    year = after.astimezone(zone).year
    for candidate in (year, year + 1):
        instant = _local_midnight(candidate, *month_day, zone)
        if instant > after:
            return instant
    return None  # pragma: no cover - next year's midnight is always later


def enrolled_for_date(previous: Sequence[EnrolmentRecord], instant: datetime) -> bool:
    """Did an enrolment already begin for this occurrence of the date, in some zone?"""
    return any(abs(e.entered_at - instant) < SAME_DATE_OCCURRENCE for e in previous)


def event_candidates(
    events: Sequence[EventFacts],
    event_type: str,
    previous: Sequence[EnrolmentRecord],
    live_from: datetime,
) -> list[EventFacts]:
    """Events of the trigger type, from go-live on, after the latest enrolment's trigger.

    Events are ordered by (occurred_at, id); an enrolment's trigger is at (entered_at,
    trigger_event_id), so an event is never considered twice once something enrolled.
    """
    after: tuple[datetime, int] | None = None
    if previous:
        latest = max(previous, key=lambda e: (e.entered_at, e.trigger_event_id or 0))
        after = (latest.entered_at, latest.trigger_event_id or 0)
    return [
        event
        for event in events
        if event.type == event_type
        and event.occurred_at >= live_from
        and (after is None or (event.occurred_at, event.id) > after)
    ]


def date_instant(value: object, timezone: str, now: datetime) -> datetime | None:
    """The most recent local midnight of the value's month and day at or before `now`.

    Feb 29 falls on Feb 28 in years without it. A midnight that does not exist locally
    (a DST jump at 00:00) resolves the way zoneinfo does (the offset before the jump).
    """
    month_day = _month_day(value)
    if month_day is None:
        return None
    zone = cached_zone(timezone)  # engine.facts.loading.known_zone has checked it
    local_year = now.astimezone(zone).year
    for year in (local_year, local_year - 1):
        instant = _local_midnight(year, *month_day, zone)
        if instant <= now:
            return instant
    return None


def _month_day(value: object) -> tuple[int, int] | None:
    if isinstance(value, datetime | date):
        return value.month, value.day
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
        return parsed.month, parsed.day
    return None


def _local_midnight(year: int, month: int, day: int, zone: ZoneInfo) -> datetime:
    if month == 2 and day == 29 and not isleap(year):
        day = 28
    local = datetime.combine(date(year, month, day), time(0), zone)
    return local.astimezone(UTC)
