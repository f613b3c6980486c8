"""The one duration grammar: a whole number and a unit (45s, 30m, 12h, 2d, 3w)."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_HINT = "use a whole number and a unit, e.g. 45s, 30m, 12h, 2d, 3w"

# Ten years. Longer is a typo in any rule, config value or option, and adding it to a
# time could overflow the calendar; every place that bounds a duration uses this.
MAX_DURATION = timedelta(days=3650)
MAX_DURATION_HINT = "use at most 3650d"


class Duration(timedelta):
    """A timedelta that prints as it was written: `1d`, not `1 day, 0:00:00`.

    Every duration a person wrote (rules, config, options) is parsed here, so any message
    that prints one with str() or an f-string shows the user's own spelling. Arithmetic
    gives plain timedeltas, and equality and hashing are timedelta's.
    """

    written: str

    def __new__(cls, written: str, seconds: int) -> Duration:
        duration = super().__new__(cls, seconds=seconds)
        duration.written = written
        return duration

    def __str__(self) -> str:
        return self.written

    def __format__(self, spec: str) -> str:
        return format(self.written, spec)

    def __reduce__(self) -> tuple[type[Duration], tuple[str, int]]:
        # timedelta pickles as (days, seconds, microseconds); keep the spelling for workers.
        return (Duration, (self.written, int(self.total_seconds())))


def is_duration(text: object) -> bool:
    return isinstance(text, str) and _DURATION.fullmatch(text) is not None


def parse_duration(text: object) -> timedelta:
    """'2d' -> timedelta(days=2). Raises ValueError with a message that shows the format."""
    if not isinstance(text, str) or not (m := _DURATION.fullmatch(text)):
        raise ValueError(f"{text!r} is not a duration ({DURATION_HINT})")
    try:
        return Duration(text, int(m.group(1)) * _UNIT_SECONDS[m.group(2)])
    except OverflowError:  # beyond timedelta's 999999999 days: well formed, but far too long
        raise ValueError(f"{text!r} is too long ({MAX_DURATION_HINT})") from None


def format_duration(delta: timedelta) -> str:
    """The shortest exact spelling: timedelta(days=14) -> '2w'."""
    seconds = int(delta.total_seconds())
    for unit in "wdhm":
        size = _UNIT_SECONDS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
