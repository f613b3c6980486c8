"""The only place that reads the wall clock.

`now()` is the wall clock, always aware UTC. Nothing moves it: an evaluation (and `--at`)
carries its own `now` and passes it down explicitly, so two evaluations in two threads
or processes can never see each other's time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime


def now() -> datetime:
    """The wall clock, timezone-aware UTC. Code that evaluates at a time takes it as a
    parameter instead; this is for defaults at the edge (the CLI, row timestamps)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are read as UTC (the storage convention); aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_text(moment: datetime) -> str:
    """The one way a time is shown to a person, in tables, details, JSON and logs alike:
    UTC, whole seconds, a Z (2026-06-15T18:00:00Z). Naive times are read as UTC."""
    return f"{as_utc(moment):%Y-%m-%dT%H:%M:%S}Z"


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Times Rapport stores and compares. Outside them, moving a time by a zone offset or a
# cadence's delay can leave datetime's range (OverflowError), and no customer history
# is from before 1970 or after 9000.
MIN_YEAR, MAX_YEAR = 1970, 9000


def parse_time(text: str) -> datetime:
    """ISO 8601 to aware UTC; a date alone means 00:00 UTC (the CLI's `--at`). Raises ValueError."""
    value = text.strip()
    try:
        if _DATE_ONLY.fullmatch(value):
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            moment = as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise ValueError(
            f"{text!r} is not a time (use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)"
        ) from None
    if not in_range(moment):
        raise ValueError(
            f"{text!r} is not a time Rapport accepts (years {MIN_YEAR} to {MAX_YEAR} only)"
        )
    return moment


def in_range(moment: datetime) -> bool:
    return MIN_YEAR <= moment.year <= MAX_YEAR
