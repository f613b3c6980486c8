"""`rapport daemon` killed (SIGKILL) at named crash points and at random moments, again and
again on one database, then restarted: the ledger stays consistent and every eligible
occurrence is planned exactly once.

Before each start new customers mention the brand (a third of them also buy twice), so
every start has work in flight when it is killed. A few seeds in a local run, 20 when
CI=true (never skipped). Real daemon processes, a real SQLite file, real SIGKILLs
(engine/faults.py).
"""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import timedelta
from pathlib import Path

from daemon_helpers import LOYAL_RULE, MENTION_RULE, DaemonProject, assert_ledger_consistent

NEW_CUSTOMERS_PER_START = 30
SEEDS = 20 if os.environ.get("CI") == "true" else 3
NAMED_POINTS = [
    "daemon_tick_start",  # before the tick took the evaluation lock
    "daemon_tick_locked",  # holding the lock, nothing written
    "daemon_before_commit",  # a batch evaluated, not yet written
    "daemon_after_commit",  # a batch written, the run not finished
]


def new_work(project: DaemonProject) -> None:
    """New customers who mentioned the brand; every third bought twice (`loyal`)."""
    for i, customer in enumerate(project.customers(NEW_CUSTOMERS_PER_START)):
        project.mention(customer, ago=timedelta(minutes=5))
        if i % 3 == 0:
            project.event(customer, "purchase", ago=timedelta(minutes=9))
            project.event(customer, "purchase", ago=timedelta(minutes=8))


def restart_and_check(project: DaemonProject, customers: int) -> None:
    """A clean daemon finishes the work; then the ledger must be exactly right."""
    daemon = project.start()
    daemon.wait_for("tick_done", where=lambda e: e["complete"] and e["evaluated"] == customers)
    code, _ = daemon.stop()
    assert code == 0, daemon.tail()
    assert_ledger_consistent(project)
    assert project.contact_count() == customers + customers // 3


def test_a_daemon_killed_at_each_named_point_restarts_without_duplicate_or_loss(
    tmp_path: Path,
) -> None:
    project = DaemonProject(tmp_path, rules={"mention": MENTION_RULE, "loyal": LOYAL_RULE})
    for point in NAMED_POINTS:
        new_work(project)
        daemon = project.start(env={"RAPPORT_CRASH_AT": point, "RAPPORT_CRASH_AFTER": "2"})
        assert daemon.popen.wait(timeout=120) == -signal.SIGKILL, (point, daemon.tail())
    restart_and_check(project, NEW_CUSTOMERS_PER_START * len(NAMED_POINTS))


def test_a_daemon_killed_at_random_moments_restarts_without_duplicate_or_loss(
    tmp_path: Path,
) -> None:
    project = DaemonProject(tmp_path, rules={"mention": MENTION_RULE, "loyal": LOYAL_RULE})
    for seed in range(SEEDS):
        new_work(project)
        daemon = project.start()
        daemon.wait_for("pool_started")
        time.sleep(random.Random(seed).uniform(0.0, 2.5))  # often mid-tick, at any line
        daemon.kill()
    restart_and_check(project, NEW_CUSTOMERS_PER_START * SEEDS)
