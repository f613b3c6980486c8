"""Hourly housekeeping: x replies past their step's expiry, and decisions past retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from daemon_helpers import CONFIG, DaemonProject

from engine.daemon.jobs import expire_unsent_replies, housekeeping, prune_decisions
from engine.daemon.reload import load_project
from engine.history.models import Contact, Decision, Run

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REPLY_RULE = """\
version: 1
cadence: reply
description: Reply to mentions within the hour.
audience: everyone
priority: 90
channel: x
trigger:
  event: mention
reentry: always
steps:
  - name: reply
    expires: 1h
    template: t.j2
"""


def contact(customer_id: int, key: str, *, planned_at: datetime, state: str) -> Contact:
    return Contact(
        customer_id=customer_id,
        cadence="reply",
        step="reply",
        idempotency_key=key,
        text="@h0 hi",
        channel="x",
        state=state,
        planned_at=planned_at,
        updated_at=planned_at,
    )


def test_planned_replies_past_their_expiry_expire_and_nothing_else(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path, rules={"reply": REPLY_RULE})
    running, problems = load_project(project.root / "config.yaml", now=NOW)
    assert running is not None, problems
    (customer,) = project.customers(1)
    with project.db.write() as session:
        session.add_all(
            [
                contact(customer, "late", planned_at=NOW - timedelta(minutes=61), state="planned"),
                contact(customer, "fresh", planned_at=NOW - timedelta(minutes=59), state="planned"),
                contact(customer, "sent", planned_at=NOW - timedelta(hours=5), state="sent"),
            ]
        )
    assert expire_unsent_replies(project.db, running.strategy, now=NOW) == 1
    assert project.rows("SELECT idempotency_key, state, reason FROM contacts ORDER BY id") == [
        ("late", "expired", "expired before it could be sent"),
        ("fresh", "planned", None),
        ("sent", "sent", None),
    ]


def test_decisions_older_than_the_retention_are_pruned(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path)
    (customer,) = project.customers(1)
    with project.db.write() as session:
        run = Run(mode="run", rules_hash="x", evaluated_at=NOW, counts={})
        session.add(run)
        session.flush()
        for days in (1, 89, 91):
            session.add(
                Decision(
                    run_id=run.id,
                    customer_id=customer,
                    cadence="c",
                    outcome="deferred",
                    reason=f"{days}d",
                    decided_at=NOW - timedelta(days=days),
                )
            )
    assert prune_decisions(project.db, timedelta(days=90), now=NOW) == 1
    assert project.rows("SELECT reason FROM decisions ORDER BY id") == [("1d",), ("89d",)]


def test_housekeeping_expires_review_messages_nobody_handled_in_time(tmp_path: Path) -> None:
    project = DaemonProject(tmp_path, config=CONFIG + "review: {expires: 3d}\n")
    running, problems = load_project(project.root / "config.yaml", now=NOW)
    assert running is not None, problems
    (customer,) = project.customers(1)
    old, recent = NOW - timedelta(days=3, minutes=1), NOW - timedelta(days=2)
    with project.db.write() as session:
        for key, state, planned_at in [
            ("pending-old", "pending_review", old),
            ("pending-recent", "pending_review", recent),
            ("approved-old", "approved", old),
            ("rejected-old", "rejected", old),
        ]:
            row = contact(customer, key, planned_at=planned_at, state=state)
            row.channel = "review"
            session.add(row)
    housekeeping(project.db, running.strategy, running.settings, now=NOW)
    assert project.rows("SELECT idempotency_key, state, reason FROM contacts ORDER BY id") == [
        ("pending-old", "expired", "expired: not reviewed within review.expires 3d"),
        ("pending-recent", "pending_review", None),
        ("approved-old", "expired", "expired: not posted within review.expires 3d"),
        ("rejected-old", "rejected", None),
    ]
