"""Quiet hours: nobody gets a message at night, in their own time zone.

The window is read on the customer's wall clock (zoneinfo), so it means the same thing
to a customer in Los Angeles, Paris, Kathmandu (+05:45) or Lord Howe Island (a 30-minute
DST shift). A due message waits for the end of quiet hours; it is not dropped (docs/policy.md).

Wall-clock semantics across DST:
- `is_quiet` looks at the local time shown on the clock at that instant; in a fall-back
  overlap the repeated hour is quiet or not by what the clock shows, both times.
- `quiet_until` is the first instant after `now` at which the clock shows the end time.
  When that local time does not exist (it falls into a spring-forward gap), quiet hours
  end at the first instant after the gap, i.e. the moment the clock jumps past the end
  time. When it exists twice (fall-back overlap), the first occurrence after `now` wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.config import QuietHours
from engine.ledger.decisions import Reason
from engine.policy.candidates import Candidate, Verdict
from engine.policy.stage import Context, StageResult, defer, one_by_one, utc_text
from engine.zones import zone


def is_quiet(now_utc: datetime, timezone: str, quiet_hours: QuietHours | None) -> bool:
    if quiet_hours is None:
        return False
    return quiet_hours.contains(now_utc.astimezone(zone(timezone)).time())


def _first_instant_showing(local: datetime, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first UTC instant after `after` whose wall clock reaches the naive `local`.

    Both folds are tried so an overlap yields the earlier occurrence still in the future;
    a gap yields the instant the clock jumps past `local` (the end of the gap).
    """
    instants = []
    for fold in (0, 1):
        instant = local.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        shown = instant.astimezone(tz).replace(tzinfo=None)
        if shown != local:  # `local` is in a gap: the wall clock never shows it
            instant = _end_of_gap(local, tz)
        if instant > after:
            instants.append(instant)
    return min(instants, default=None)


def _end_of_gap(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the clock jumps over `local` (a nonexistent local time).

    zoneinfo reads a gap time with the offset before the jump (fold=0) or after it
    (fold=1), which gives two instants on either side of the transition; bisect between
    them, to the second (zone offsets change on whole seconds), for the first instant on
    the later offset.
    """
    low, high = sorted(int(local.replace(tzinfo=tz, fold=f).timestamp()) for f in (0, 1))
    later_offset = datetime.fromtimestamp(high, tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == later_offset:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def quiet_until(
    now_utc: datetime, timezone: str, quiet_hours: QuietHours | None
) -> datetime | None:
    """The UTC instant quiet hours end, or None when `now_utc` is not in quiet hours."""
    if quiet_hours is None or not is_quiet(now_utc, timezone, quiet_hours):
        return None
    tz = zone(timezone)
    local = now_utc.astimezone(tz)
    wraps = quiet_hours.start > quiet_hours.end
    day: date = local.date()
    if wraps and local.time() >= quiet_hours.start:
        day += timedelta(days=1)
    for _ in range(3):  # the next occurrence; more only for windows spanning a DST jump
        end = _first_instant_showing(datetime.combine(day, quiet_hours.end), tz, now_utc)
        if end is not None:
            break
        day += timedelta(days=1)
    if end is None:
        raise AssertionError("unreachable: a local time recurs every day")
    if is_quiet(end, timezone, quiet_hours):  # only when the jump lands inside the window again
        return quiet_until(end, timezone, quiet_hours)
    return end


def defer_in_quiet_hours(candidates: Sequence[Candidate], ctx: Context) -> StageResult:
    quiet = ctx.policy.quiet_hours
    if quiet is None:
        return list(candidates), []
    ends: dict[str, datetime | None] = {}  # one customer per call: usually one zone

    def verdict_of(candidate: Candidate) -> Verdict | None:
        name = candidate.customer.timezone
        if name not in ends:
            ends[name] = quiet_until(ctx.now, name, quiet)
        until = ends[name]
        if until is None:
            return None
        local = f"{until.astimezone(zone(name)):%H:%M} {name}"
        detail = f"quiet hours until {local} ({utc_text(until)})"
        return defer(candidate, Reason.QUIET_HOURS, detail, until)

    return one_by_one(candidates, verdict_of)
