"""What review does to the cadence (real evaluations through the CLI): a rejected message
resolves its step as skipped and never counts for caps, so the next step follows;
`reject --stop` ends the enrolment; an approved message counts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import RunCli
from evaluation_helpers import cadence, write_project
from review_helpers import Queue, now

from engine.history.db import Database

pytestmark = pytest.mark.backends

TWO_STEPS = """
- name: thanks
  template: t.j2
- name: check-in
  after: 1h
  template: t.j2
"""


def _history(db: Database, tmp_path: Path) -> Queue:
    rules = {
        "thanks": cadence("thanks", "event: purchase", TWO_STEPS, "starts: 2026-01-01T00:00:00Z\n")
    }
    write_project(tmp_path, rules, config="timezone: UTC\npolicy:\n  caps: [{max: 1, per: 1d}]\n")
    queue = Queue(db)
    jane = queue.customer("jane_doe", "Jane Doe")
    queue.event(jane, "purchase", timedelta(hours=5), amount=30)
    return queue


def _run(run_cli: RunCli, hours_ago: float) -> None:
    at = (now() - timedelta(hours=hours_ago)).isoformat()
    code, out, err = run_cli("run", "--once", "--at", at)
    assert code == 0, out + err


def _ledger(db: Database) -> list[tuple[str, str]]:
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT step, state FROM contacts ORDER BY id")
        return [(row[0], row[1]) for row in rows]


def _enrolment(db: Database) -> str:
    with db.engine.connect() as connection:
        return str(connection.exec_driver_sql("SELECT state FROM enrolments").scalar_one())


@pytest.mark.parametrize(
    ("action", "ledger", "enrolment"),
    [
        # rejected: the step counts as skipped and frees the cap, so check-in follows
        (["reject", "1"], [("thanks", "rejected"), ("check-in", "pending_review")], "finished"),
        # --stop: the enrolment ends, no check-in
        (["reject", "1", "--stop"], [("thanks", "rejected")], "exited"),
        # approved: it counts, so the cap of 1 a day holds check-in back
        (["approve", "1"], [("thanks", "approved")], "active"),
    ],
)
def test_the_next_step_after_review(
    db: Database,
    tmp_path: Path,
    run_cli: RunCli,
    action: list[str],
    ledger: list[tuple[str, str]],
    enrolment: str,
) -> None:
    _history(db, tmp_path)
    _run(run_cli, hours_ago=4)
    assert _ledger(db) == [("thanks", "pending_review")]
    assert run_cli(*action)[0] == 0
    _run(run_cli, hours_ago=2)
    assert (_ledger(db), _enrolment(db)) == (ledger, enrolment)


def test_messages_withdrawn_by_stop_free_the_cap(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    starts = "starts: 2026-01-01T00:00:00Z\n"
    one = "- name: only\n  template: t.j2\n"
    rules = {
        "thanks": cadence("thanks", "event: purchase", TWO_STEPS, starts),
        "b": cadence("b", "event: visit", one, starts),
        "c": cadence("c", "event: visit", one, starts),
    }
    write_project(tmp_path, rules, config="timezone: UTC\npolicy:\n  caps: [{max: 2, per: 1d}]\n")
    queue = Queue(db)
    jane = queue.customer("jane_doe", "Jane Doe")
    queue.event(jane, "purchase", timedelta(hours=5), amount=30)
    queue.event(jane, "visit", timedelta(hours=1, minutes=30))
    _run(run_cli, hours_ago=4)
    _run(run_cli, hours_ago=2)
    assert _ledger(db) == [("thanks", "pending_review"), ("check-in", "pending_review")]
    assert run_cli("reject", "1", "--stop")[:2] == (
        0,
        "rejected 1 and ended its enrolment; withdrew 2\n",
    )
    _run(run_cli, hours_ago=1)  # b and c are due: the cap of 2 counts neither withdrawn message
    assert _ledger(db) == [
        ("thanks", "rejected"),
        ("check-in", "cancelled"),
        ("only", "pending_review"),
        ("only", "pending_review"),
    ]
