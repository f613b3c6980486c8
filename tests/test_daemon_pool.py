"""Isolation: durable_rules runs only in worker processes; a worker that dies is replaced,
its batch retried once, then its customers recorded as evaluation_error."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from daemon_helpers import ROOT, DaemonProject, real_now

from engine.daemon.evaluating import evaluate_tick
from engine.daemon.pool import PoolSetup, WorkerPool
from engine.daemon.reload import Project, load_project

CUSTOMERS = 8
BATCH = 4


@pytest.fixture
def project(tmp_path: Path) -> DaemonProject:
    project = DaemonProject(tmp_path)
    for customer in project.customers(CUSTOMERS):
        project.mention(customer, ago=timedelta(minutes=1))
    return project


def loaded(project: DaemonProject) -> Project:
    running, problems = load_project(project.root / "config.yaml", now=real_now())
    assert running is not None, problems
    return running


@pytest.fixture
def pool(project: DaemonProject) -> Iterator[WorkerPool]:
    running = loaded(project)
    pool = WorkerPool(PoolSetup(project.db_url, running.strategy, running.settings))
    yield pool
    pool.close()


def tick(project: DaemonProject, pool: WorkerPool) -> object:
    running = loaded(project)
    return evaluate_tick(
        project.db,
        pool,
        strategy=running.strategy,
        settings=running.settings,
        now=real_now(),
        batch_size=BATCH,
    ).summary


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def test_a_worker_killed_mid_batch_is_replaced_and_its_batch_retried(
    project: DaemonProject,
    pool: WorkerPool,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Each worker survives its first batch and is SIGKILLed at its second.
    monkeypatch.setenv("RAPPORT_CRASH_AT", "worker_batch")
    monkeypatch.setenv("RAPPORT_CRASH_AFTER", "2")
    with caplog.at_level(logging.INFO):
        summary = tick(project, pool)
    assert summary.evaluated == CUSTOMERS  # type: ignore[attr-defined]
    assert project.contact_count() == CUSTOMERS
    died = events(caplog, "worker_died")
    assert [(r.fields["batch"], r.fields["exit_code"]) for r in died] == [(1, -9)]  # type: ignore[attr-defined]
    assert events(caplog, "batch_given_up") == []


def test_a_batch_whose_worker_dies_twice_becomes_evaluation_errors_and_the_daemon_goes_on(
    project: DaemonProject,
    pool: WorkerPool,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("RAPPORT_CRASH_AT", "worker_batch")  # every worker, first batch
    with caplog.at_level(logging.INFO):
        summary = tick(project, pool)
    assert summary.evaluated == 0  # type: ignore[attr-defined]
    assert summary.dropped == {"evaluation_error": CUSTOMERS}  # type: ignore[attr-defined]
    assert len(events(caplog, "worker_died")) == 2 * (CUSTOMERS // BATCH)
    assert len(events(caplog, "batch_given_up")) == CUSTOMERS // BATCH
    assert project.rows(
        "SELECT count(DISTINCT customer_id), min(detail) FROM decisions"
        " WHERE reason = 'evaluation_error'"
    ) == [(CUSTOMERS, "the worker process died (exit code -9)")]
    monkeypatch.delenv("RAPPORT_CRASH_AT")  # the fault is gone: the next tick works
    pool.close()
    assert tick(project, pool).evaluated == CUSTOMERS  # type: ignore[attr-defined]
    assert project.contact_count() == CUSTOMERS


TICK_IN_A_FRESH_PROCESS = """
import sys
from pathlib import Path
from engine import clock
from engine.daemon.evaluating import evaluate_tick
from engine.daemon.pool import PoolSetup, WorkerPool
from engine.daemon.reload import load_project
from engine.history.db import Database

project, _ = load_project(Path(sys.argv[1]), now=clock.now())
db = Database.open(sys.argv[2])
pool = WorkerPool(PoolSetup(db.url, project.strategy, project.settings))
for _ in range(3):
    result = evaluate_tick(
        db, pool, strategy=project.strategy, settings=project.settings, now=clock.now()
    )
pool.close()
print(result.summary.evaluated, sorted(m for m in sys.modules if m.startswith("durable")))
"""


def test_durable_rules_is_never_imported_by_the_daemon_process(project: DaemonProject) -> None:
    done = subprocess.run(
        [sys.executable, "-c", TICK_IN_A_FRESH_PROCESS, "config.yaml", project.db_url],
        cwd=project.root,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == f"{CUSTOMERS} []\n", done.stderr


def test_a_worker_killed_while_idle_is_replaced_at_the_next_tick(
    project: DaemonProject, pool: WorkerPool, caplog: pytest.LogCaptureFixture
) -> None:
    pool.start()
    (idle,) = pool.pids
    assert idle is not None
    os.kill(idle, signal.SIGKILL)
    with caplog.at_level(logging.INFO):
        assert tick(project, pool).evaluated == CUSTOMERS  # type: ignore[attr-defined]
    assert [r.fields["pid"] for r in events(caplog, "worker_died")] == [idle]  # type: ignore[attr-defined]
    assert idle not in pool.pids


def test_a_stuck_batch_is_killed_after_the_batch_timeout_and_retried(
    project: DaemonProject,
    pool: WorkerPool,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A worker that never answers (a hung C call) is stopped the same way as a dead one.
    SIGSTOP freezes the first worker, as a hang would; its replacement is not frozen."""
    pool.batch_timeout = 3.0  # counted from the worker's boot, not its start
    tick(project, pool)
    (frozen,) = pool.pids
    assert frozen is not None
    os.kill(frozen, signal.SIGSTOP)
    with caplog.at_level(logging.INFO):
        assert tick(project, pool).evaluated == CUSTOMERS  # type: ignore[attr-defined]
    assert len(events(caplog, "batch_timeout")) == 1
    assert [r.fields["pid"] for r in events(caplog, "worker_died")] == [frozen]  # type: ignore[attr-defined]
