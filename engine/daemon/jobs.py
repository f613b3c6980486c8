"""The daemon's jobs besides evaluation: one function each, and the seam to the X channel.

Delivery (engine.delivery) and X ingestion and reconciliation (engine.x) are separate
packages. They are imported lazily, when a job first runs: a build without them (or a
project without X credentials) runs every other job and logs once that the x channel is
not configured, instead of failing every 30 seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from engine.config import Settings
from engine.daemon.logs import emit
from engine.history.db import Database
from engine.history.models import Contact, Decision
from engine.ledger.states import Channel, ContactState, transition
from engine.strategy.model import Strategy

X_CLIENT_TIMEOUT_SECONDS = 10.0


@dataclass
class XChannelJobs:
    """Delivery, ingestion and reconciliation, sharing one X client for the daemon's life."""

    settings: Settings
    _client: Any = None
    _missing: set[str] = field(default_factory=set)

    def _not_configured(self, job: str, why: str) -> None:
        if job not in self._missing:  # once per job, not once per run
            self._missing.add(job)
            emit("x_not_configured", f"x channel not configured: {why}", job=job)

    def client(self, job: str) -> Any:
        """The X client, or None (logged once) without the X package or credentials."""
        if self._client is not None:
            return self._client
        try:
            from engine.x.client import XClient
        except ImportError:
            self._not_configured(job, "this build has no X client (engine.x)")
            return None
        variable = self.settings.x.credentials_env
        if not os.environ.get(variable):
            self._not_configured(job, f"set {variable} to an OAuth 2.0 user-context token")
            return None

        def token() -> str:  # read at each call: a refreshed token is picked up
            return os.environ.get(variable, "")

        self._client = XClient(self.settings.x.base_url, token, timeout=X_CLIENT_TIMEOUT_SECONDS)
        return self._client

    def recover_interrupted(self, db: Database, *, now: datetime) -> None:
        """At start: a row left `sending` by a crash becomes `unknown` (never resent)."""
        try:
            from engine.delivery.outbox import recover_interrupted
        except ImportError:
            return  # without delivery nothing is ever `sending`
        recovered = recover_interrupted(db, now)
        if recovered:
            emit("sending_recovered", "left sending by a crash: now unknown", count=recovered)

    def deliver(self, db: Database, *, now: datetime) -> None:
        try:
            from engine.delivery.outbox import deliver_due
        except ImportError:
            self._not_configured("deliver", "this build has no delivery (engine.delivery)")
            return
        client = self.client("deliver")
        if client is not None:
            deliver_due(db, self.settings, now=now, client=client, paused=None)

    def poll_x(self, db: Database, *, now: datetime) -> None:
        """Mentions and searches in, then the brand's own posts to settle `unknown` rows."""
        try:
            from engine.x.ingest import poll_x
            from engine.x.reconcile import reconcile
        except ImportError:
            self._not_configured("poll_x", "this build has no X ingestion (engine.x)")
            return
        client = self.client("poll_x")
        if client is not None:
            poll_x(db, self.settings, now=now, client=client)
            reconcile(db, self.settings, now=now, client=client)


def housekeeping(db: Database, strategy: Strategy, settings: Settings, *, now: datetime) -> None:
    """Hourly: x replies whose step expired before they could leave, and old decisions."""
    expired = expire_unsent_replies(db, strategy, now=now)
    pruned = prune_decisions(db, settings.decision_retention, now=now)
    emit("housekeeping_done", expired=expired, decisions_pruned=pruned)


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
