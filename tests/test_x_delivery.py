"""Delivery to a real HTTP stand-in on loopback, against a real SQLite file and PostgreSQL."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from x_helpers import add_contact, add_customer, contact, settings_for

from engine import clock
from engine.delivery.outbox import backoff, deliver_due, recover_interrupted
from engine.history.db import Database
from engine.history.models import XPostAttempt, XRateLimit
from engine.ledger.states import ContactState
from engine.x.client import StaticToken, XClient
from engine.x.stand_in import StandIn

pytestmark = pytest.mark.backends

S = ContactState
POST = "POST /2/tweets"


@pytest.fixture
def jane(db: Database) -> int:
    return add_customer(db, "jane_doe")


def deliver(db: Database, stand_in: StandIn, client: XClient, **kw: Any) -> Any:
    settings = settings_for(stand_in.base_url, **kw.pop("x", {}))
    return deliver_due(db, settings, now=kw.pop("now", clock.now()), client=client, **kw)


def test_a_due_reply_is_posted_as_a_reply_and_marked_sent(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    mention = stand_in.mention("jane_doe", "@acme is the grinder back?")
    cid = add_contact(db, jane, "@jane_doe yes, since Monday!", in_reply_to=mention["id"])
    report = deliver(db, stand_in, client)
    assert report.sent == [cid]
    row = contact(db, cid)
    assert row.state == S.SENT and row.remote_id and row.attempts == 1
    [request] = stand_in.requests_to(POST)
    assert request["body"] == {
        "text": "@jane_doe yes, since Monday!",
        "reply": {"in_reply_to_tweet_id": mention["id"]},
    }
    assert deliver(db, stand_in, client).counts["sent"] == 0  # never twice
    assert len(stand_in.requests_to(POST)) == 1


def test_the_sending_commit_is_visible_before_x_sees_the_request(
    db: Database, db_url: str, stand_in: StandIn, client: XClient, jane: int
) -> None:
    """No HTTP call inside a transaction: when the request arrives, another connection sees
    the row `sending` and can take the write lock at once."""
    cid = add_contact(db, jane, "@jane_doe hello")
    seen: list[tuple[str, bool]] = []

    def check(entry: dict[str, Any]) -> None:
        if entry["endpoint"] == POST:
            seen.append(_state_and_free(db_url, cid))

    stand_in.on_request = check
    assert deliver(db, stand_in, client).sent == [cid]
    assert seen == [("sending", True)]


def _state_and_free(db_url: str, cid: int) -> tuple[str, bool]:
    """The contact's state as another connection sees it, and whether that connection can
    write at once: SQLite's write lock, or PostgreSQL's lock on the row (NOWAIT)."""
    if db_url.startswith("sqlite:///"):
        other = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0.1)
        try:
            state = other.execute("SELECT state FROM contacts WHERE id = ?", (cid,)).fetchone()[0]
            other.execute("BEGIN IMMEDIATE")  # fails at once if a write transaction is open
            other.execute("ROLLBACK")
            return state, True
        except sqlite3.OperationalError:
            return "locked", False
        finally:
            other.close()
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            query = "SELECT state FROM contacts WHERE id = :id FOR UPDATE NOWAIT"
            state = connection.execute(text(query), {"id": cid}).scalar_one()
            connection.rollback()
            return state, True
    except OperationalError:  # LockNotAvailable: the sender still holds the row
        return "locked", False
    finally:
        engine.dispose()


def test_a_timeout_after_the_request_leaves_unknown_and_is_never_resent(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    cid = add_contact(db, jane, "@jane_doe slow answer")
    stand_in.fail(delay=3)
    report = deliver(db, stand_in, client)
    assert report.unknown == [cid]
    row = contact(db, cid)
    assert row.state == S.UNKNOWN and "X may have posted it" in (row.reason or "")
    later = clock.now() + timedelta(days=1)
    assert deliver(db, stand_in, client, now=later).counts == deliver(db, stand_in, client).counts
    assert len(stand_in.requests_to(POST)) == 1


def test_a_connection_dropped_after_the_request_was_read_leaves_unknown(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    cid = add_contact(db, jane, "@jane_doe dropped")
    stand_in.fail(drop=True)
    assert deliver(db, stand_in, client).unknown == [cid]
    assert "RemoteProtocolError" in (contact(db, cid).reason or "")


def test_429_waits_for_the_reset_and_stops_the_pass(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    first = add_contact(db, jane, "@jane_doe one")
    second = add_contact(db, jane, "@jane_doe two")
    stand_in.fail(status=429, reset_in=120)
    now = clock.now()
    report = deliver(db, stand_in, client, now=now)
    assert report.retrying == [first] and report.held_until is not None
    row = contact(db, first)
    assert row.state == S.PLANNED and row.attempts == 0  # a 429 is not a try
    assert row.next_attempt_at is not None
    assert now + timedelta(seconds=100) < row.next_attempt_at <= now + timedelta(seconds=122)
    assert contact(db, second).state == S.PLANNED  # the pass stopped: X said wait
    assert len(stand_in.requests_to(POST)) == 1
    # Before the reset nothing leaves; after it both do.
    assert deliver(db, stand_in, client, now=now + timedelta(seconds=60)).counts["sent"] == 0
    assert len(stand_in.requests_to(POST)) == 1
    assert sorted(deliver(db, stand_in, client, now=row.next_attempt_at).sent) == [first, second]


@pytest.mark.parametrize(
    ("limits", "which"), [({"post_limit": 2}, "15-minute"), ({"app_day_limit": 2}, "24-hour")]
)
def test_the_budget_from_x_headers_holds_the_pass(
    db: Database, jane: int, limits: dict[str, int], which: str
) -> None:
    with StandIn(**limits) as stand_in, XClient(stand_in.base_url, StaticToken("t")) as x:
        ids = [add_contact(db, jane, f"@jane_doe number {n}") for n in range(4)]
        report = deliver(db, stand_in, x)
        # X said remaining 0 after the second post: the third is never attempted.
        assert report.sent == ids[:2] and report.held_until is not None
        assert which in report.held_why
        assert len(stand_in.requests_to(POST)) == 2
        with db.read() as session:
            remaining = {row.endpoint: row.remaining for row in session.scalars(select(XRateLimit))}
            assert 0 in remaining.values()
        # A new pass (a restart, even) reads the stored headers: still nothing leaves.
        assert deliver(db, stand_in, x).counts["sent"] == 0
        assert len(stand_in.requests_to(POST)) == 2


def test_the_configured_budget_counts_attempts(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    ids = [add_contact(db, jane, f"@jane_doe hi {n}") for n in range(3)]
    report = deliver(db, stand_in, client, x={"max_per_15m": 2})
    assert report.sent == ids[:2] and report.held_until is not None
    assert deliver(db, stand_in, client, x={"max_per_15m": 2}).counts["sent"] == 0
    later = clock.now() + timedelta(minutes=16)
    assert deliver(db, stand_in, client, x={"max_per_15m": 2}, now=later).sent == ids[2:]


def test_duplicate_content_fails_with_that_reason(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    first = add_contact(db, jane, "@jane_doe thanks!")
    second = add_contact(db, jane, "@jane_doe thanks!", in_reply_to="222")
    report = deliver(db, stand_in, client)
    assert report.sent == [first] and report.failed == [second]
    assert (contact(db, second).reason or "").startswith("duplicate content")


def test_other_4xx_fail_with_xs_reason(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    cid = add_contact(db, jane, "@jane_doe hello")
    stand_in.fail(status=400, detail="reply target not found")
    assert deliver(db, stand_in, client).failed == [cid]
    assert contact(db, cid).reason == "HTTP 400: reply target not found"


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_backs_off_then_fails_after_the_bounded_attempts(
    db: Database, stand_in: StandIn, client: XClient, jane: int, status: int
) -> None:
    cid = add_contact(db, jane, "@jane_doe flaky")
    stand_in.fail(status=status, times=3)
    now = clock.now()
    for attempt in (1, 2):
        report = deliver(db, stand_in, client, now=now, x={"max_attempts": 3})
        row = contact(db, cid)
        assert report.retrying == [cid] and row.state == S.PLANNED and row.attempts == attempt
        assert row.next_attempt_at is not None and row.next_attempt_at > now
        assert deliver(db, stand_in, client, now=now, x={"max_attempts": 3}).counts["sent"] == 0
        now = row.next_attempt_at
    report = deliver(db, stand_in, client, now=now, x={"max_attempts": 3})
    assert report.failed == [cid]
    assert (contact(db, cid).reason or "").startswith(
        f"gave up after 3 attempts; last: HTTP {status}"
    )
    assert len(stand_in.requests_to(POST)) == 3


def test_a_connection_refused_is_retried_not_unknown(db: Database, jane: int) -> None:
    with StandIn() as gone:
        url = gone.base_url
    cid = add_contact(db, jane, "@jane_doe nobody home")
    with XClient(url, StaticToken("t"), timeout=0.5) as x:
        report = deliver_due(db, settings_for(url), now=clock.now(), client=x)
    assert report.retrying == [cid] and contact(db, cid).state == S.PLANNED


def test_backoff_grows_with_jitter_and_is_bounded() -> None:
    rng = random.Random(1)
    delays = [backoff(n, rng) for n in range(1, 12)]
    assert timedelta(seconds=15) <= delays[0] <= timedelta(seconds=30)
    assert delays[3] > delays[0]
    assert all(d <= timedelta(hours=1) for d in delays)
    assert len({backoff(4, rng) for _ in range(5)}) > 1


def test_a_paused_cadence_is_not_sent_and_stays_planned(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    held = add_contact(db, jane, "@jane_doe held", cadence="mention-reply")
    other = add_contact(db, jane, "@jane_doe other", cadence="welcome")
    report = deliver(db, stand_in, client, paused=lambda cadence: cadence == "mention-reply")
    assert report.paused == [held] and report.sent == [other]
    assert contact(db, held).state == S.PLANNED


def test_a_row_left_sending_by_a_crash_becomes_unknown_and_is_never_resent(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    cid = add_contact(db, jane, "@jane_doe crash", state=S.SENDING)
    assert recover_interrupted(db, clock.now()) == [cid]
    assert contact(db, cid).state == S.UNKNOWN
    assert deliver(db, stand_in, client).counts["sent"] == 0
    assert stand_in.requests_to(POST) == []


def test_every_attempt_is_recorded_for_the_budget(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    add_contact(db, jane, "@jane_doe a")
    stand_in.fail(status=503)
    deliver(db, stand_in, client)
    with db.read() as session:
        outcomes = session.execute(select(XPostAttempt.status_code, XPostAttempt.outcome)).all()
        assert [tuple(o) for o in outcomes] == [(503, "planned")]
        assert session.scalar(select(func.count()).select_from(XPostAttempt)) == 1


def test_future_retry_time_is_respected(
    db: Database, stand_in: StandIn, client: XClient, jane: int, tmp_path: Path
) -> None:
    cid = add_contact(db, jane, "@jane_doe later")
    stand_in.fail(status=500)
    now = clock.now()
    deliver(db, stand_in, client, now=now)
    assert deliver(db, stand_in, client, now=now + timedelta(seconds=10)).counts["sent"] == 0
    retry = contact(db, cid).next_attempt_at
    assert retry is not None
    assert deliver(db, stand_in, client, now=retry).sent == [cid]


def test_a_stop_request_ends_the_pass_between_two_messages(
    db: Database, stand_in: StandIn, client: XClient, jane: int
) -> None:
    ids = [add_contact(db, jane, f"@jane_doe note {n}") for n in range(3)]
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # told to stop after the first message

    report = deliver(db, stand_in, client, stop=stop)
    assert report.sent == ids[:1]
    assert [contact(db, i).state for i in ids[1:]] == [S.PLANNED, S.PLANNED]
