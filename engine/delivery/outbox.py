"""Delivery of channel-x messages: one pass over the due outbox rows (docs/delivery.md).

Each message goes through three short steps, never holding a transaction over the network:

1. commit `sending` (with one x_post_attempts row) in its own transaction;
2. call X, outside any transaction;
3. commit the outcome:
   - `sent` with the post id;
   - `failed` with the reason for a 4xx other than 429 (403 duplicate content included);
   - back to `planned` with `next_attempt_at`: after a 429 until X's reset; after a 5xx or
     a connection that never opened, exponential backoff with jitter, until
     `channels.x.max_attempts` tries, then `failed`;
   - `unknown` when the request went out and no answer came back (a timeout, a dropped
     connection): X may have posted it, so it is never resent automatically.
     Reconciliation (engine/x/reconcile.py) or an operator settles it.

A crash between 1 and 3 leaves the row `sending`; `recover_interrupted` turns such rows
into `unknown` when the daemon starts, for the same reason. Every state change goes
through `transition()` (engine/ledger/states.py), so a reviewer or operator acting on the
same row at the same moment wins or loses cleanly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from engine.config import Settings
from engine.delivery.budget import Budget, load_budget, save_limits
from engine.errors import RapportError
from engine.faults import crash_point
from engine.history.db import Database
from engine.history.models import Contact, XPostAttempt
from engine.ledger.states import Channel, ContactState, transition
from engine.x.client import Posted, XClient, XMalformed, XNoAnswer, XNotSent, XRefused

S = ContactState
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
AUTH_RETRY = timedelta(minutes=5)
INTERRUPTED = (
    "interrupted while sending (a crash or a stop): X may have posted it; reconciliation "
    "or `rapport resolve` settles it"
)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)  # back to planned, with a retry time
    unknown: list[int] = field(default_factory=list)
    paused: list[int] = field(default_factory=list)  # left planned: their cadence is paused
    lost_race: list[int] = field(default_factory=list)  # someone else changed the row first
    held_until: datetime | None = None  # the budget stopped the pass until then
    held_why: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            name: len(getattr(self, name))
            for name in ("sent", "failed", "retrying", "unknown", "paused", "lost_race")
        }


@dataclass(frozen=True)
class _Due:
    id: int
    cadence: str
    text: str
    in_reply_to: str | None
    attempts: int


def due_messages(db: Database, *, now: datetime) -> list[_Due]:
    with db.read() as session:
        rows = session.execute(
            select(Contact.id, Contact.cadence, Contact.text, Contact.in_reply_to, Contact.attempts)
            .where(
                Contact.channel == Channel.X.value,
                Contact.state == S.PLANNED.value,
                or_(Contact.next_attempt_at.is_(None), Contact.next_attempt_at <= now),
            )
            .order_by(Contact.planned_at, Contact.id)
        )
        return [_Due(*row) for row in rows]


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential from 30 s, capped at an hour, with jitter (half fixed, half random) so
    that messages failing together do not come back together."""
    full = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    return full / 2 + full / 2 * rng.random()


def deliver_due(
    db: Database,
    settings: Settings,
    *,
    now: datetime,
    client: XClient,
    paused: Callable[[str], bool] | None = None,
    stop: Callable[[], bool] | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """One pass over the channel-x messages that are planned and due at `now`.

    `paused(cadence)` is asked before each message (an operator's pause leaves it planned);
    `stop()` too, so a daemon told to stop ends the pass between two messages, never with
    one left `sending`.
    """
    run = _Pass(
        db,
        settings,
        client,
        now,
        load_budget(db, settings.x, now=now),
        DeliveryReport(),
        rng or random.Random(),
    )
    for message in due_messages(db, now=now):
        if stop is not None and stop():
            break
        if not run.budget.may_send(now):
            break
        if paused is not None and paused(message.cadence):
            run.report.paused.append(message.id)
            continue
        if not _mark_sending(db, message, now=now):
            run.report.lost_race.append(message.id)
            continue
        run.budget.spend()
        crash_point("after_send_commit")
        run.deliver(message)
    held = run.budget.held_until
    if held is not None and held > now:
        run.report.held_until, run.report.held_why = held, run.budget.why
    return run.report


def _mark_sending(db: Database, message: _Due, *, now: datetime) -> bool:
    with db.write() as session:
        moved = transition(
            session,
            message.id,
            channel=Channel.X,
            old=S.PLANNED,
            new=S.SENDING,
            at=now,
            values={"attempts": Contact.attempts + 1},
        )
        if moved:
            session.add(XPostAttempt(contact_id=message.id, attempted_at=now))
        crash_point("before_send_commit")
    return moved


@dataclass
class _Pass:
    db: Database
    settings: Settings
    client: XClient
    now: datetime
    budget: Budget
    report: DeliveryReport
    rng: random.Random

    def deliver(self, message: _Due) -> None:
        """The call to X (no transaction open), then the outcome in its own transaction."""
        try:
            posted: Posted | RapportError = self.client.create_post(
                message.text, in_reply_to=message.in_reply_to
            )
        except RapportError as exc:
            posted = exc
        crash_point("after_http_before_commit")
        outcome = _outcome(posted, message.attempts + 1, self.settings, now=self.now, rng=self.rng)
        self._record(message, posted, outcome)
        crash_point("after_sent_commit" if outcome.state is S.SENT else "after_outcome_commit")
        if outcome.hold_until is not None:
            self.budget.hold(outcome.hold_until, outcome.reason or "")
        _tally(self.report, message.id, outcome.state, outcome.reason)

    def _record(self, message: _Due, posted: Posted | RapportError, outcome: _Outcome) -> None:
        values: dict[str, Any] = {"reason": outcome.reason, "next_attempt_at": outcome.retry_at}
        if isinstance(posted, Posted):
            values |= {"remote_id": posted.id, "sent_at": self.now}
        if outcome.uncounted:
            values["attempts"] = Contact.attempts - 1  # X refused to consider it: not a try
        with self.db.write() as session:
            transition(
                session,
                message.id,
                channel=Channel.X,
                old=S.SENDING,
                new=outcome.state,
                at=self.now,
                values=values,
            )
            session.execute(
                update(XPostAttempt)
                .where(XPostAttempt.contact_id == message.id, XPostAttempt.outcome.is_(None))
                .values(outcome=outcome.state.value, status_code=_status(posted))
            )
            limits = getattr(posted, "limits", None)
            if limits is not None:
                save_limits(session, limits, now=self.now)
                self.budget.heed(limits, self.now)
            crash_point("before_outcome_commit")


def _status(result: Posted | RapportError) -> int | None:
    if isinstance(result, Posted):
        return 201
    return result.status if isinstance(result, XRefused) else None


@dataclass(frozen=True)
class _Outcome:
    state: ContactState
    reason: str | None = None
    retry_at: datetime | None = None
    uncounted: bool = False
    hold_until: datetime | None = None  # stop the pass: nothing else would fare better


def _outcome(
    result: Posted | RapportError,
    attempts: int,
    settings: Settings,
    *,
    now: datetime,
    rng: random.Random,
) -> _Outcome:
    if isinstance(result, Posted):
        return _Outcome(S.SENT)
    if isinstance(result, XNoAnswer | XMalformed):
        return _Outcome(S.UNKNOWN, f"{result.message}: X may have posted it; never resent")
    if isinstance(result, XRefused):
        return _refused(result, attempts, settings, now=now, rng=rng)
    if isinstance(result, XNotSent):
        return _retry(result.message, attempts, settings, now=now, rng=rng)
    # No request was made (the token could not be had): try again later, hold the pass.
    retry_at = now + AUTH_RETRY
    reason = f"not sent: {result}"
    return _Outcome(S.PLANNED, reason, retry_at, uncounted=True, hold_until=retry_at)


def _refused(
    error: XRefused, attempts: int, settings: Settings, *, now: datetime, rng: random.Random
) -> _Outcome:
    status = error.status
    if status == 429:
        retry_at = _reset(error, now)
        reason = f"rate limited by X (HTTP 429): retry at {retry_at:%Y-%m-%d %H:%M:%S}Z"
        return _Outcome(S.PLANNED, reason, retry_at, uncounted=True, hold_until=retry_at)
    if status >= 500:
        return _retry(f"HTTP {status}: {error.detail}", attempts, settings, now=now, rng=rng)
    if status == 401:  # the token, not the message: keep the message, hold the pass
        retry_at = now + AUTH_RETRY
        reason = f"X refused the credentials (HTTP 401: {error.detail})"
        return _Outcome(S.PLANNED, reason, retry_at, uncounted=True, hold_until=retry_at)
    if error.duplicate_content:
        return _Outcome(S.FAILED, f"duplicate content: X refuses identical text ({error.detail})")
    return _Outcome(S.FAILED, f"HTTP {status}: {error.detail}")


def _reset(error: XRefused, now: datetime) -> datetime:
    """When X will take a post again: the reset of the limit that is used up (the 24-hour
    one only when that is the one at zero), else the window's reset, else 15 minutes."""
    limits = [error.limits.window, error.limits.day]
    exhausted = [
        limit.reset_at for limit in limits if limit is not None and limit.exhausted_at(now)
    ]
    window = error.limits.window
    if exhausted:
        return max(r for r in exhausted if r is not None)
    if window is not None and window.reset_at is not None and window.reset_at > now:
        return window.reset_at
    return now + timedelta(minutes=15)


def _retry(
    why: str, attempts: int, settings: Settings, *, now: datetime, rng: random.Random
) -> _Outcome:
    if attempts >= settings.x.max_attempts:
        return _Outcome(S.FAILED, f"gave up after {attempts} attempts; last: {why}")
    retry_at = now + backoff(attempts, rng)
    return _Outcome(S.PLANNED, f"attempt {attempts} failed ({why}); retrying", retry_at)


def _tally(
    report: DeliveryReport, contact_id: int, state: ContactState, reason: str | None
) -> None:
    bucket = {
        S.SENT: report.sent,
        S.FAILED: report.failed,
        S.PLANNED: report.retrying,
        S.UNKNOWN: report.unknown,
    }[state]
    bucket.append(contact_id)
    if reason and state is not S.SENT:
        report.problems.append(f"contact {contact_id}: {reason}")


def recover_interrupted(db: Database, now: datetime) -> list[int]:
    """Rows left `sending` by a crash become `unknown`: the request may have gone out."""
    with db.write() as session:
        stuck = session.scalars(
            select(Contact.id).where(
                Contact.channel == Channel.X.value, Contact.state == S.SENDING.value
            )
        ).all()
        recovered = [
            contact_id
            for contact_id in stuck
            if transition(
                session,
                contact_id,
                channel=Channel.X,
                old=S.SENDING,
                new=S.UNKNOWN,
                at=now,
                values={"reason": INTERRUPTED},
            )
        ]
        if recovered:
            session.execute(
                update(XPostAttempt)
                .where(XPostAttempt.contact_id.in_(recovered), XPostAttempt.outcome.is_(None))
                .values(outcome=S.UNKNOWN.value)
            )
    return recovered
