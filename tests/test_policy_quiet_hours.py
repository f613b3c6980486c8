"""Quiet hours on the customer's wall clock, across DST gaps and overlaps.

Documented rule (engine/policy/quiet_hours.py): quiet hours end at the first instant
after now at which the customer's clock shows the end time; when that local time falls
into a DST gap, at the first instant after the gap; when it exists twice (overlap), at
its first occurrence still ahead.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_helpers import quiet

from engine.config import QuietHours
from engine.policy import is_quiet, quiet_until
from engine.zones import UnknownTimeZone

LA, PARIS, KTM, LHI = (
    "America/Los_Angeles",
    "Europe/Paris",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


@pytest.mark.parametrize(
    ("zone", "window", "now", "until", "shown"),
    [
        # Los Angeles, spring forward 2026-03-08 02:00 PST -> 03:00 PDT (10:00 UTC).
        (LA, "21:00-09:00", utc(2026, 3, 8, 6), utc(2026, 3, 8, 16), "2026-03-08 09:00 PDT"),
        (LA, "21:00-02:30", utc(2026, 3, 8, 9), utc(2026, 3, 8, 10), "2026-03-08 03:00 PDT"),
        # Los Angeles, fall back 2026-11-01 02:00 PDT -> 01:00 PST (09:00 UTC).
        (LA, "21:00-09:00", utc(2026, 11, 1, 5), utc(2026, 11, 1, 17), "2026-11-01 09:00 PST"),
        (LA, "21:00-01:30", utc(2026, 11, 1, 6), utc(2026, 11, 1, 8, 30), "2026-11-01 01:30 PDT"),
        (
            LA,
            "21:00-01:30",
            utc(2026, 11, 1, 9, 10),
            utc(2026, 11, 1, 9, 30),
            "2026-11-01 01:30 PST",
        ),
        # Paris, 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
        (PARIS, "21:00-09:00", utc(2026, 3, 28, 21), utc(2026, 3, 29, 7), "2026-03-29 09:00 CEST"),
        (PARIS, "21:00-02:30", utc(2026, 3, 28, 21), utc(2026, 3, 29, 1), "2026-03-29 03:00 CEST"),
        (PARIS, "21:00-09:00", utc(2026, 10, 24, 20), utc(2026, 10, 25, 8), "2026-10-25 09:00 CET"),
        # Kathmandu, +05:45 all year.
        (
            KTM,
            "21:00-09:00",
            utc(2026, 6, 15, 18),
            utc(2026, 6, 16, 3, 15),
            "2026-06-16 09:00 +0545",
        ),
        # Lord Howe: +10:30 / +11:00. Spring forward 2026-10-04 02:00 -> 02:30 (Oct 3 15:30 UTC).
        (
            LHI,
            "21:00-09:00",
            utc(2026, 10, 3, 11, 30),
            utc(2026, 10, 3, 22),
            "2026-10-04 09:00 +11",
        ),
        (
            LHI,
            "21:00-02:15",
            utc(2026, 10, 3, 15),
            utc(2026, 10, 3, 15, 30),
            "2026-10-04 02:30 +11",
        ),
        # Lord Howe fall back 2026-04-05 02:00 +11 -> 01:30 +10:30 (Apr 4 15:00 UTC).
        (LHI, "21:00-01:45", utc(2026, 4, 4, 12), utc(2026, 4, 4, 14, 45), "2026-04-05 01:45 +11"),
        (
            LHI,
            "21:00-01:45",
            utc(2026, 4, 4, 15, 5),
            utc(2026, 4, 4, 15, 15),
            "2026-04-05 01:45 +1030",
        ),
        # Not wrapping midnight: lunch.
        (LA, "12:00-13:00", utc(2026, 6, 15, 19, 30), utc(2026, 6, 15, 20), "2026-06-15 13:00 PDT"),
    ],
)
def test_quiet_until_lands_on_the_local_end(
    zone: str, window: str, now: datetime, until: datetime, shown: str
) -> None:
    assert is_quiet(now, zone, quiet(window))
    assert quiet_until(now, zone, quiet(window)) == until
    assert local(until, zone) == shown
    assert not is_quiet(until, zone, quiet(window))
    assert is_quiet(until - timedelta(seconds=1), zone, quiet(window))


@pytest.mark.parametrize(
    ("zone", "window", "now", "expected"),
    [
        (LA, "21:00-09:00", utc(2026, 6, 16, 4), True),  # 21:00 PDT: start is inside
        (LA, "21:00-09:00", utc(2026, 6, 16, 3, 59), False),  # 20:59
        (LA, "21:00-09:00", utc(2026, 6, 16, 16), False),  # 09:00: end is outside
        (LA, "21:00-09:00", utc(2026, 6, 16, 15, 59), True),  # 08:59
        (LA, "12:00-13:00", utc(2026, 6, 15, 18, 59), False),  # 11:59
        (LA, "12:00-13:00", utc(2026, 6, 15, 19), True),  # 12:00
        (LA, "12:00-13:00", utc(2026, 6, 15, 20), False),  # 13:00
        # The spring-forward gap swallows 02:00-03:00: a window inside it never applies.
        (LA, "02:00-03:00", utc(2026, 3, 8, 9, 59, 59), False),  # 01:59:59 PST
        (LA, "02:00-03:00", utc(2026, 3, 8, 10), False),  # 03:00 PDT
        # Fall-back overlap: the repeated local hour is quiet both times the clock shows it.
        (LA, "01:00-01:30", utc(2026, 11, 1, 8, 15), True),  # 01:15 PDT
        (LA, "01:00-01:30", utc(2026, 11, 1, 8, 45), False),  # 01:45 PDT
        (LA, "01:00-01:30", utc(2026, 11, 1, 9, 15), True),  # 01:15 PST
        (KTM, "21:00-09:00", utc(2026, 6, 16, 3, 14, 59), True),  # 08:59:59 +0545
        (KTM, "21:00-09:00", utc(2026, 6, 16, 3, 15), False),
    ],
)
def test_is_quiet_reads_the_wall_clock(
    zone: str, window: str, now: datetime, expected: bool
) -> None:
    assert is_quiet(now, zone, quiet(window)) is expected


def test_outside_quiet_hours_or_without_them_there_is_nothing_to_wait_for() -> None:
    assert quiet_until(utc(2026, 6, 15, 18), LA, quiet("21:00-09:00")) is None
    assert quiet_until(utc(2026, 6, 15, 18), LA, None) is None
    assert not is_quiet(utc(2026, 6, 15, 18), LA, None)


def test_same_start_and_end_means_no_quiet_hours() -> None:
    assert not is_quiet(utc(2026, 6, 15, 18), LA, quiet("09:00-09:00"))


def test_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(UnknownTimeZone, match="'Mars/Olympus' is not an IANA time zone"):
        is_quiet(utc(2026, 6, 15), "Mars/Olympus", quiet("21:00-09:00"))


ZONES = [LA, PARIS, KTM, LHI, "UTC", "America/St_Johns", "Pacific/Chatham", "Europe/London"]
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)
minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))


@settings(max_examples=300, deadline=None)
@given(instants, st.sampled_from(ZONES), minutes, minutes)
def test_quiet_until_is_the_first_instant_out_of_quiet_hours(
    now: datetime, zone: str, start: time, end: time
) -> None:
    window = QuietHours(start, end)
    until = quiet_until(now, zone, window)
    if not is_quiet(now, zone, window):
        assert until is None
        return
    assert until is not None
    assert now < until <= now + timedelta(days=1, hours=1)
    assert not is_quiet(until, zone, window)
    # quiet right up to the end (sampled), so a due message never waits longer than needed
    for fraction in (0.25, 0.5, 0.75):
        assert is_quiet(now + (until - now) * fraction, zone, window)
    before = until - timedelta(seconds=1)
    assert before <= now or is_quiet(before, zone, window)
    shown = until.astimezone(ZoneInfo(zone))
    if shown.time() != end:  # only when the end fell into a gap: the clock jumped over it
        assert shown.utcoffset() != before.astimezone(ZoneInfo(zone)).utcoffset()
