"""X's rate-limit headers, read from every answer (never hard-coded, docs/x.md).

Each endpoint has a 15-minute window (`x-rate-limit-limit/-remaining/-reset`); posting
also counts against a 24-hour limit per app and per user (`x-app-limit-24hour-*`,
`x-user-limit-24hour-*`). `reset` is a Unix time in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Limit:
    limit: int | None
    remaining: int | None
    reset_at: datetime | None

    def exhausted_at(self, now: datetime) -> bool:
        """No request left before the reset (a missing reset means: try again now)."""
        return (
            self.remaining is not None
            and self.remaining <= 0
            and (self.reset_at is not None and self.reset_at > now)
        )


@dataclass(frozen=True)
class RateLimits:
    """What one answer said: the endpoint's window and the tighter of the 24-hour limits."""

    window: Limit | None = None
    day: Limit | None = None


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # a proxy's garbage must not stop delivery; the config budget still holds


def _limit(headers: Mapping[str, str], prefix: str) -> Limit | None:
    limit, remaining = _int(headers, f"{prefix}-limit"), _int(headers, f"{prefix}-remaining")
    reset = _int(headers, f"{prefix}-reset")
    if limit is None and remaining is None and reset is None:
        return None
    reset_at = datetime.fromtimestamp(reset, UTC) if reset is not None else None
    return Limit(limit, remaining, reset_at)


def read_limits(headers: Mapping[str, str]) -> RateLimits:
    days = [
        found
        for found in (
            _limit(headers, "x-app-limit-24hour"),
            _limit(headers, "x-user-limit-24hour"),
        )
        if found is not None
    ]
    day = min(days, key=lambda d: d.remaining if d.remaining is not None else 1 << 30, default=None)
    return RateLimits(window=_limit(headers, "x-rate-limit"), day=day)
