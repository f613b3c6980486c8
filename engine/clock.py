"""The only source of 'now'. Tests and `--at` move it; everything else asks it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current evaluation time, always timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[datetime]:
    """Pin now() to `moment` for the duration of the block (used by --at and tests)."""
    global _frozen
    previous, _frozen = _frozen, as_utc(moment)
    try:
        yield _frozen
    finally:
        _frozen = previous


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are read as UTC (the storage convention); aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Times Rapport stores and compares. Outside them, moving a time by a zone offset or a
# cadence's delay can leave datetime's range (OverflowError), and no customer history
# is from before 1970 or after 9000.
MIN_YEAR, MAX_YEAR = 1970, 9000


def parse_time(text: str) -> datetime:
    """ISO 8601 to aware UTC; a date alone means 00:00 UTC (DESIGN §8). Raises ValueError."""
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
