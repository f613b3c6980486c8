"""`rapport daemon` killed (SIGKILL) at named crash points and at random moments, then
restarted: the ledger stays consistent and every eligible occurrence is planned once.

A few seeds in a local run, 20 when CI=true (never skipped). Each test is a real daemon
process on a real SQLite file; kills are real SIGKILLs (engine/faults.py).
"""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from daemon_helpers import LOYAL_RULE, MENTION_RULE, DaemonProject, assert_ledger_consistent

CUSTOMERS = 60
SEEDS = 20 if os.environ.get("CI") == "true" else 3
NAMED_POINTS = [
    "daemon_tick_start",  # before the tick took the evaluation lock
    "daemon_tick_locked",  # holding the lock, nothing written
    "daemon_before_commit",  # a batch evaluated, not yet written
    "daemon_after_commit",  # a batch written, the run not finished
]


def busy_project(root: Path) -> DaemonProject:
    """60 customers who each mentioned the brand; every third bought twice (`loyal`)."""
    project = DaemonProject(root, rules={"mention": MENTION_RULE, "loyal": LOYAL_RULE})
    for i, customer in enumerate(project.customers(CUSTOMERS)):
        project.mention(customer, ago=timedelta(minutes=5))
        if i % 3 == 0:
            project.event(customer, "purchase", ago=timedelta(minutes=9))
            project.event(customer, "purchase", ago=timedelta(minutes=8))
    return project


def restart_and_check(project: DaemonProject) -> None:
    """A clean daemon finishes the work; then the ledger must be exactly right."""
    daemon = project.start()
    daemon.wait_for("tick_done", where=lambda e: e["complete"] and e["evaluated"] == CUSTOMERS)
    code, _ = daemon.stop()
    assert code == 0, daemon.tail()
    assert_ledger_consistent(project)
    assert project.contact_count() == CUSTOMERS + CUSTOMERS // 3


@pytest.mark.parametrize("point", NAMED_POINTS)
def test_a_daemon_killed_at_a_named_point_restarts_without_duplicate_or_loss(
    tmp_path: Path, point: str
) -> None:
    project = busy_project(tmp_path)
    daemon = project.start(env={"RAPPORT_CRASH_AT": point, "RAPPORT_CRASH_AFTER": "3"})
    assert daemon.popen.wait(timeout=120) == -signal.SIGKILL, daemon.tail()
    restart_and_check(project)


@pytest.mark.parametrize("seed", range(SEEDS))
def test_a_daemon_killed_at_random_moments_restarts_without_duplicate_or_loss(
    tmp_path: Path, seed: int
) -> None:
    chance = random.Random(seed)
    project = busy_project(tmp_path)
    for _ in range(2):
        daemon = project.start()
        daemon.wait_for("pool_started")
        time.sleep(chance.uniform(0.0, 2.5))
        daemon.kill()
    restart_and_check(project)
