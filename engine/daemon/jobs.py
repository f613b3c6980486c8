"""The daemon's jobs besides evaluation: one function each, and the seam to the X channel.

Delivery (engine.delivery) and X ingestion and reconciliation (engine.x) share one X
client (engine/x/connect.py) for the daemon's life.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from engine.config import Settings
from engine.daemon.logs import emit
from engine.delivery.outbox import deliver_due, recover_interrupted
from engine.history.db import Database
from engine.history.models import Contact, Decision
from engine.ledger.states import Channel, ContactState, transition
from engine.ops.forget import purge_deleted_posts
from engine.review.queue import expire_overdue
from engine.strategy.model import Strategy
from engine.x.client import XClient
from engine.x.connect import open_client
from engine.x.ingest import poll_x
from engine.x.reconcile import reconcile


@dataclass
class XChannelJobs:
    """Delivery, ingestion and reconciliation, sharing one X client for the daemon's life.

    Without credentials (the variable `channels.x.credentials_env` names is unset) every
    other job runs and this logs once per job that the x channel is not configured,
    instead of failing every 30 seconds.
    """

    settings: Settings
    stopping: Callable[[], bool] = lambda: False
    paused: Callable[[str], bool] | None = None
    _client: XClient | None = None
    _missing: set[str] = field(default_factory=set)

    def _not_configured(self, job: str, why: str) -> None:
        if job not in self._missing:  # once per job, not once per run
            self._missing.add(job)
            emit("x_not_configured", f"x channel not configured: {why}", job=job)

    def client(self, db: Database, job: str) -> XClient | None:
        """The X client, or None (logged once) without credentials."""
        if self._client is not None:
            return self._client
        variable = self.settings.x.credentials_env
        if not os.environ.get(variable):
            self._not_configured(job, f"set {variable} to an OAuth 2.0 user-context token")
            return None
        self._client = open_client(db, self.settings)
        return self._client

    def recover_interrupted(self, db: Database, *, now: datetime) -> None:
        """At start: a row left `sending` by a crash becomes `unknown` (never resent)."""
        recovered = recover_interrupted(db, now)
        if recovered:
            emit("sending_recovered", "left sending by a crash: now unknown", count=recovered)

    def deliver(self, db: Database, *, now: datetime) -> None:
        client = self.client(db, "deliver")
        if client is not None:
            report = deliver_due(
                db, self.settings, now=now, client=client, paused=self.paused, stop=self.stopping
            )
            emit("delivered", "delivery pass", **_counts(report))

    def poll_x(self, db: Database, *, now: datetime) -> None:
        """Mentions and searches in, then the brand's own posts to settle `unknown` rows."""
        client = self.client(db, "poll_x")
        if client is not None:
            emit(
                "x_polled",
                "mentions and searches read",
                **_counts(poll_x(db, self.settings, now=now, client=client)),
            )
            emit(
                "reconciled",
                "own posts read",
                **_counts(reconcile(db, self.settings, now=now, client=client)),
            )


def _counts(report: Any) -> dict[str, int]:
    """A report's figures for one log line: counts as they are, lists and maps by size."""
    counts = {}
    for name in getattr(report, "__dataclass_fields__", {}):
        value = getattr(report, name)
        if isinstance(value, int) and not isinstance(value, bool):
            counts[name] = value
        elif isinstance(value, list | dict):
            counts[name] = len(value)
    return counts


def housekeeping(db: Database, strategy: Strategy, settings: Settings, *, now: datetime) -> None:
    """Hourly: x replies whose step expired before they could leave, review messages nobody
    handled within `review.expires`, and old decisions.

    The review queue also expires whenever someone looks at it (`rapport review`, the
    review page); this keeps it honest when nobody looks for days.
    """
    expired = expire_unsent_replies(db, strategy, now=now)
    review_expired = expire_overdue(db, expires=settings.review.expires, now=now)
    pruned = prune_decisions(db, settings.decision_retention, now=now)
    purged = purge_deleted_posts(db, now=now)  # posts deleted on X: their text goes
    emit(
        "housekeeping_done",
        deleted_posts_purged=purged,
        expired=expired,
        review_expired=len(review_expired),
        decisions_pruned=pruned,
    )


def expire_unsent_replies(db: Database, strategy: Strategy, *, now: datetime) -> int:
    """`planned` x replies past their step's `expires` become `expired`.

    A step is sendable until `due + expires`; a row is planned at or after `due`, so
    `planned_at + expires` is never earlier than the real deadline: late, never early.
    """
    limits: dict[tuple[str, str], timedelta] = {
        (cadence.name, step.name): step.expires
        for cadence in strategy.cadences
        for step in cadence.steps
        if step.expires is not None
    }
    count = 0
    with db.write() as session:
        rows = session.execute(
            select(Contact.id, Contact.cadence, Contact.step, Contact.planned_at).where(
                Contact.channel == Channel.X.value, Contact.state == ContactState.PLANNED.value
            )
        ).all()
        for contact_id, cadence, step, planned_at in rows:
            limit = limits.get((cadence, step))
            if limit is not None and planned_at + limit < now:
                count += transition(
                    session,
                    contact_id,
                    channel=Channel.X,
                    old=ContactState.PLANNED,
                    new=ContactState.EXPIRED,
                    at=now,
                    values={"reason": "expired before it could be sent"},
                )
    return count


def prune_decisions(db: Database, keep: timedelta, *, now: datetime) -> int:
    """Decisions are kept `retention.decisions` (config.yaml), then deleted."""
    with db.write() as session:
        result = session.execute(delete(Decision).where(Decision.decided_at < now - keep))
        return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["XChannelJobs", "housekeeping"]
