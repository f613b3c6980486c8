"""Delivery killed (SIGKILL) at its dangerous moments, in a real child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from x_helpers import add_contact, add_customer, contact, settings_for

from engine import clock
from engine.delivery.outbox import deliver_due, recover_interrupted
from engine.history.db import Database
from engine.ledger.states import ContactState
from engine.x.client import XClient
from engine.x.reconcile import reconcile
from engine.x.stand_in import StandIn

pytestmark = pytest.mark.backends

ROOT = Path(__file__).resolve().parent.parent
POST = "POST /2/tweets"
CHILD = """
import sys
from engine import clock
from engine.config import Brand, Settings, XChannel
from engine.delivery.outbox import deliver_due
from engine.history.db import Database
from engine.x.connect import open_client

db = Database.open(sys.argv[1])
settings = Settings(brand=Brand("acme"), x=XChannel(base_url=sys.argv[2]))
with open_client(db, settings) as client:
    deliver_due(db, settings, now=clock.now(), client=client)
"""


def deliver_in_a_child(db_url: str, base_url: str, crash_at: str) -> int:
    env = {**os.environ, "RAPPORT_CRASH_AT": crash_at, "RAPPORT_X_TOKEN": "t",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, base_url], env=env, timeout=60, cwd=ROOT
    )
    return done.returncode


S = ContactState


@pytest.mark.parametrize(
    ("crash_at", "left", "requests", "final"),
    [
        ("before_send_commit", S.PLANNED, 0, S.SENT),  # nothing happened: sent after restart
        ("after_send_commit", S.SENDING, 0, S.UNKNOWN),  # not posted, but nobody can know
        ("after_http_before_commit", S.SENDING, 1, S.SENT),  # posted: reconciliation finds it
        ("before_outcome_commit", S.SENDING, 1, S.SENT),
        ("after_sent_commit", S.SENT, 1, S.SENT),
    ],
)
def test_a_kill_never_leads_to_a_second_post(
    db: Database,
    db_url: str,
    stand_in: StandIn,
    client: XClient,
    crash_at: str,
    left: ContactState,
    requests: int,
    final: ContactState,
) -> None:
    mention = stand_in.mention("jane_doe", "@acme hi")
    cid = add_contact(
        db, add_customer(db, "jane_doe"), "@jane_doe hello!", in_reply_to=mention["id"]
    )
    assert deliver_in_a_child(db_url, stand_in.base_url, crash_at) == -signal.SIGKILL
    assert contact(db, cid).state == left
    assert len(stand_in.requests_to(POST)) == requests
    # The restart: interrupted rows become unknown, the next passes never resend them,
    # and reconciliation finds the post if X made it.
    recover_interrupted(db, clock.now())
    settings = settings_for(stand_in.base_url)
    for _ in range(2):
        deliver_due(db, settings, now=clock.now(), client=client)
    reconcile(db, settings, now=clock.now(), client=client)
    assert len(stand_in.requests_to(POST)) == (1 if final is S.SENT else 0)  # at most once
    assert contact(db, cid).state == final
