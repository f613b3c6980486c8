"""`rapport status` against a live daemon (a real process whose heartbeat row is fresh, as
the daemon writes it) and a dead one: exit codes and every JSON field."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import RunCli
from sqlalchemy import delete
from x_helpers import add_contact, add_customer

from engine import clock
from engine.history.db import Database
from engine.history.models import DaemonHeartbeat, Run, XCursor, XPostAttempt, XRateLimit
from engine.ledger.states import Channel, ContactState
from engine.ops.pause import pause

S = ContactState


@pytest.fixture
def daemon_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing in for the daemon (status checks its pid on this host)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def beat(db: Database, pid: int, **values: Any) -> None:
    """The heartbeat row as the daemon writes it (engine/daemon: start, each tick, stop)."""
    now = clock.now()
    row = {
        "id": 1,
        "pid": pid,
        "host": socket.gethostname(),
        "started_at": now - timedelta(hours=2),
        "last_tick_at": now - timedelta(seconds=20),
        "last_tick_seconds": 1.25,
        "rules_hash": "abc123",
        "rules_loaded_at": now - timedelta(hours=1),
        "last_reload_error": None,
        "stopped_at": None,
        **values,
    }
    with db.write() as session:
        session.execute(delete(DaemonHeartbeat))
        session.add(DaemonHeartbeat(**row))


def status(run_cli: RunCli) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli("status", "--format", "json")
    assert code in (0, 1) and out, err
    return code, json.loads(out)


def _ledger(db: Database) -> None:
    now = clock.now()
    jane = add_customer(db, "jane_doe")
    add_contact(db, jane, "@jane_doe a", cadence="mention-reply", state=S.SENT)
    add_contact(db, jane, "@jane_doe b", cadence="mention-reply")
    add_contact(
        db,
        jane,
        "@jane_doe c",
        channel=Channel.REVIEW,
        cadence="thanks",
        planned_at=now - timedelta(hours=5),
    )
    add_contact(db, jane, "@jane_doe d", channel=Channel.REVIEW, cadence="thanks")
    with db.write() as session:
        session.add(
            Run(
                started_at=now - timedelta(minutes=3),
                finished_at=now - timedelta(minutes=2),
                evaluated_at=now - timedelta(minutes=3),
                mode="run",
                rules_hash="abc123",
                counts={"evaluated": 7, "enrolled": 2, "planned": 3},
            )
        )
        session.add(XCursor(endpoint="mentions", since_id="900", last_success_at=now))
        session.add(XPostAttempt(contact_id=1, attempted_at=now, status_code=201, outcome="sent"))
        session.add(
            XRateLimit(
                endpoint="POST /2/tweets",
                limit=100,
                remaining=42,
                reset_at=now + timedelta(minutes=5),
                updated_at=now,
            )
        )


def test_status_of_a_live_daemon_is_healthy_and_shows_every_field(
    db: Database, run_cli: RunCli, daemon_process: subprocess.Popen[bytes]
) -> None:
    beat(db, daemon_process.pid)
    _ledger(db)
    pause(db, cadence="thanks", now=clock.now())
    code, report = status(run_cli)
    assert (code, report["healthy"], report["problems"]) == (0, True, [])
    daemon = report["daemon"]
    assert daemon["running"] and daemon["state"] == "running"
    assert daemon["pid"] == daemon_process.pid and daemon["host"] == socket.gethostname()
    assert daemon["since"] and daemon["last_tick_at"] and daemon["last_tick_seconds"] == 1.25
    assert report["rules"]["hash"] == "abc123" and report["rules"]["loaded_at"]
    assert report["rules"]["last_reload_error"] is None
    assert report["paused"]["all"] is False and list(report["paused"]["cadences"]) == ["thanks"]
    assert report["outbox"] == {
        "by_state": {"pending_review": 2, "planned": 1, "sent": 1},
        "by_cadence": {
            "mention-reply": {"planned": 1, "sent": 1},
            "thanks": {"pending_review": 2},
        },
    }
    oldest = report["review"]["oldest_pending"]
    assert report["review"]["pending"] == 2 and oldest["id"] == 3
    assert 5 * 3600 - 60 < oldest["age_seconds"] < 5 * 3600 + 60
    assert report["unknown"] == 0
    [run] = report["runs"]
    assert run["summary"] == {"evaluated": 7, "enrolled": 2, "planned": 3}
    budget = report["x_budget"]
    assert budget["configured"]["15m"] == {"limit": 100, "left": 99}
    assert budget["configured"]["24h"] == {"limit": 2400, "left": 2399}
    assert budget["reported_by_x"]["15m"]["remaining"] == 42
    assert report["ingestion"][0]["endpoint"] == "mentions"
    assert report["ingestion"][0]["last_success_at"]
    assert report["wake_ups_next_hour"]["available"] is False
    assert "wake_at" in report["wake_ups_next_hour"]["why"]

    code, out, _ = run_cli("status")
    assert code == 0
    assert out.startswith("Rapport status at ")
    for line in (
        f"daemon     running: pid {daemon_process.pid} on {socket.gethostname()}",
        "paused     thanks since ",
        "outbox     pending_review 2, planned 1, sent 1",
        "review     2 pending; oldest #3 (thanks)",
        "unknown    0",
        "x budget   15m 99/100, 24h 2399/2400 left (configured); X says 15m 42/100",
        "  mentions: since 900, last success ",
        "wake-ups   unavailable: ",
    ):
        assert line in out, line


def test_a_refused_reload_and_unknown_messages_degrade_a_live_daemon(
    db: Database, run_cli: RunCli, daemon_process: subprocess.Popen[bytes]
) -> None:
    error = "rules/thanks.yaml:14:7: steps[2].after: '3 dayz' is not a duration"
    beat(db, daemon_process.pid, last_reload_error=error)
    code, report = status(run_cli)
    assert code == 1 and report["daemon"]["running"]
    assert report["rules"]["last_reload_error"] == error
    assert report["problems"] == ["the last rules reload was refused: the previous rules run"]
    assert f"             {error}" in run_cli("status")[1]

    beat(db, daemon_process.pid)
    add_contact(db, add_customer(db, "jane_doe"), "@jane_doe hi", state=S.UNKNOWN)
    code, report = status(run_cli)
    assert code == 1 and report["unknown"] == 1
    assert report["problems"][0].startswith("1 message(s) unknown")


def test_a_dead_stale_stopped_or_absent_daemon_is_not_running(
    db: Database, run_cli: RunCli, daemon_process: subprocess.Popen[bytes]
) -> None:
    code, report = status(run_cli)
    assert (code, report["daemon"]) == (1, {"running": False, "state": "never started"})

    beat(db, daemon_process.pid)
    assert status(run_cli)[0] == 0
    daemon_process.kill()
    daemon_process.wait()
    code, report = status(run_cli)  # a fresh heartbeat, but the process is gone
    assert code == 1 and report["daemon"]["state"] == "dead"
    assert report["problems"] == [
        f"the daemon is not running: pid {daemon_process.pid} on {socket.gethostname()} is "
        "gone (it died without stopping)"
    ]

    beat(db, 1, host="elsewhere", last_tick_at=clock.now() - timedelta(hours=1))
    code, report = status(run_cli)  # another host: only the heartbeat's age can tell
    assert code == 1 and report["daemon"]["state"] == "stale"
    assert report["problems"] == ["the daemon is not running: no heartbeat for 60m (more than 16m)"]

    beat(db, 1, host="elsewhere", stopped_at=clock.now())
    code, report = status(run_cli)
    assert code == 1 and report["daemon"]["state"] == "stopped"


def test_wake_ups_are_counted_when_the_database_keeps_them(db: Database, tmp_path: Path) -> None:
    from sqlalchemy import text

    from engine.config import Settings
    from engine.history.models import sqlite_time
    from engine.ops.status import collect

    now = clock.now()
    with db.write() as session:  # as the incremental evaluation's migration adds it
        session.execute(text("ALTER TABLE customers ADD COLUMN wake_at DATETIME"))
    for n, minutes in enumerate((10, 50, 90)):
        customer = add_customer(db, f"c{n}")
        with db.write() as session:
            session.execute(
                text("UPDATE customers SET wake_at = :at WHERE id = :id"),
                {"at": sqlite_time(now + timedelta(minutes=minutes)), "id": customer},
            )
    wake = collect(db, Settings(), now=now).sections["wake_ups_next_hour"]
    assert wake == {"available": True, "count": 2, "window_seconds": 3600}
