"""How many posts may leave now: the configured budgets and what X's headers last said.

Two sources, the tighter wins:
- config (`channels.x.max_per_15m`, `max_per_24h`): counted from x_post_attempts, one row
  per POST /2/tweets attempt, as X counts requests (a refused attempt still counts);
- X's headers (`x-rate-limit-*` for the 15-minute window, the 24-hour app/user limit),
  stored in x_rate_limits after every answer, so a restart knows them too.
A budget that is used up holds the pass until the earliest moment it frees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.config import XChannel
from engine.history.db import Database
from engine.history.models import XPostAttempt, XRateLimit
from engine.x.limits import Limit, RateLimits

POST_ENDPOINT = "POST /2/tweets"
DAY_KEY = "POST /2/tweets (24 hours)"
WINDOW = timedelta(minutes=15)
DAY = timedelta(hours=24)


@dataclass
class Budget:
    """What this pass may still send; `held_until` is set once it may send nothing more."""

    left_15m: int
    left_24h: int
    held_until: datetime | None = None
    why: str = ""
    _frees: list[datetime] = field(default_factory=list)

    def may_send(self, now: datetime) -> bool:
        if self.held_until is not None and self.held_until > now:
            return False
        if self.left_15m <= 0 or self.left_24h <= 0:
            if self.held_until is None:
                self.held_until = min(self._frees, default=now + WINDOW)
            return False
        return True

    def spend(self) -> None:
        self.left_15m -= 1
        self.left_24h -= 1

    def hold(self, until: datetime, why: str) -> None:
        if self.held_until is None or until > self.held_until:
            self.held_until, self.why = until, why

    def heed(self, limits: RateLimits, now: datetime) -> None:
        """X's own count after an answer: stop when it says nothing is left."""
        for limit, name in ((limits.window, "15-minute"), (limits.day, "24-hour")):
            if limit is not None and limit.exhausted_at(now):
                assert limit.reset_at is not None
                self.hold(limit.reset_at, f"X's {name} limit is used up")


def load_budget(db: Database, channel: XChannel, *, now: datetime) -> Budget:
    with db.read() as session:
        counts = {}
        frees = []
        for span, limit in ((WINDOW, channel.max_per_15m), (DAY, channel.max_per_24h)):
            since = now - span
            window = select(XPostAttempt.attempted_at).where(XPostAttempt.attempted_at > since)
            counts[span] = session.scalar(select(func.count()).select_from(window.subquery()))
            if (counts[span] or 0) >= limit:
                oldest = session.scalar(
                    select(func.min(XPostAttempt.attempted_at)).where(
                        XPostAttempt.attempted_at > since
                    )
                )
                frees.append((oldest or now) + span)
        budget = Budget(
            left_15m=channel.max_per_15m - (counts[WINDOW] or 0),
            left_24h=channel.max_per_24h - (counts[DAY] or 0),
            _frees=frees,
        )
        if budget.left_15m <= 0 or budget.left_24h <= 0:
            budget.why = "the configured budget (channels.x.max_per_15m / max_per_24h) is used up"
        for key, name in ((POST_ENDPOINT, "15-minute"), (DAY_KEY, "24-hour")):
            row = session.get(XRateLimit, key)
            if row is not None:
                stored = Limit(row.limit, row.remaining, row.reset_at)
                if stored.exhausted_at(now) and row.reset_at is not None:
                    budget.hold(row.reset_at, f"X's {name} limit is used up")
    return budget


def save_limits(session: Session, limits: RateLimits, *, now: datetime) -> None:
    """Keep what X said about posting, inside the caller's (short) transaction."""
    for key, limit in ((POST_ENDPOINT, limits.window), (DAY_KEY, limits.day)):
        if limit is None:
            continue
        row = session.get(XRateLimit, key)
        if row is None:
            row = XRateLimit(endpoint=key, updated_at=now)
            session.add(row)
        row.limit, row.remaining, row.reset_at, row.updated_at = (
            limit.limit,
            limit.remaining,
            limit.reset_at,
            now,
        )
