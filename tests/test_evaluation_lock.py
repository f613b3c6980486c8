"""One writing evaluation at a time per database (real SQLite file or PostgreSQL database,
real processes)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from evaluation_helpers import ONE_STEP, World, at, cadence, write_project

from engine.errors import RapportError
from engine.history.db import Database
from engine.ledger.sinks import DatabaseSink
from engine.modes import evaluate_at

pytestmark = pytest.mark.backends

ROOT = Path(__file__).resolve().parent.parent
HOLD_LOCK = """
import sys
from engine.history.db import Database
db = Database.open(sys.argv[1], upgrade=False)
with db.evaluation_lock():
    print("locked", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    rules = {"w": cadence("w", "when: count(purchase) >= 1", ONE_STEP, "reentry: 30d\n")}
    w = World(db, write_project(tmp_path / "project", rules))
    w.event(w.customer("c1"), "purchase", at(-1), amount=30)
    return w


@pytest.fixture
def other_process(db_url: str, db: Database) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the evaluation lock until the test ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, db_url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    yield holder
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)


def test_the_lock_is_refused_while_another_process_holds_it(
    db: Database, other_process: subprocess.Popen[str]
) -> None:
    with pytest.raises(RapportError) as refused, db.evaluation_lock(timeout=0.2):
        pass
    assert str(refused.value) == (
        "another evaluation is running on this database"
        " (wait for it to finish (or stop the daemon) and try again)"
    )


def test_the_lock_is_free_again_once_the_other_process_ends(
    db: Database, other_process: subprocess.Popen[str]
) -> None:
    assert other_process.stdin is not None
    other_process.stdin.close()
    other_process.wait(timeout=30)
    with db.evaluation_lock(timeout=5):
        pass


def test_a_preview_needs_no_lock(world: World, other_process: subprocess.Popen[str]) -> None:
    assert len(world.preview(at(0)).changes.contacts) == 1


def test_a_run_waits_for_the_evaluation_in_flight(world: World) -> None:
    """Overlapping runs at nearby times: the second waits and then sees the first's writes,
    so the `when` enrolment (which begins at each run's `now`) is made once, not twice."""
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def first_run() -> None:  # an evaluation in flight: under the lock, then it writes
        with world.db.evaluation_lock():
            holding.set()
            release.wait(timeout=30)
            sink = DatabaseSink(world.db)
            evaluate_at(world.db, world.settings, now=at(0), sink=sink, mode="run")
            order.append("first run wrote")

    def second_run() -> None:
        world.run(at(0, seconds=20))
        order.append("second run wrote")

    first = threading.Thread(target=first_run)
    first.start()
    assert holding.wait(timeout=30)
    second = threading.Thread(target=second_run)
    second.start()
    second.join(timeout=0.3)
    assert second.is_alive() and order == []  # waiting for the lock
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert order == ["first run wrote", "second run wrote"]
    assert [(c, s) for _, c, s, _ in world.contacts()] == [("w", "only")]
    assert [(c, t) for c, t, _, _ in world.enrolments()] == [("w", at(0))]
