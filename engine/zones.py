"""IANA time zones by name: the one place that turns a customer's or the config's zone
name into a ZoneInfo, and says plainly when it cannot."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import RapportError


class UnknownTimeZone(RapportError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"time zone {name!r} is not an IANA time zone",
            hint="use e.g. America/Los_Angeles or Europe/Paris",
        )


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The zone called `name`. Successes are cached (zones are looked up per customer);
    a failure is not (lru_cache never caches exceptions) and costs a lookup each time."""
    try:
        return ZoneInfo(name)
    # ZoneInfo raises OSError for names that are folders ('America') or too long.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZone(name) from None


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except UnknownTimeZone:
        return False
    return True
