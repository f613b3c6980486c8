"""A CLI holding a write transaction for 20 s: the daemon waits (or skips a tick), never
crashes, and plans what it must once the database is free again."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from daemon_helpers import DaemonProject

HOLD_SECONDS = 20
HOLD_WRITE_LOCK = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


def test_a_cli_holding_the_write_lock_20s_makes_the_daemon_wait_not_crash(
    tmp_path: Path,
) -> None:
    project = DaemonProject(tmp_path)
    first, second = project.customers(2)
    project.mention(first, ago=timedelta(minutes=1))
    daemon = project.start()
    daemon.wait_for("tick_done", where=lambda e: e["planned"] == 1)
    project.mention(second)
    database = str(project.root / "rapport.db")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, database, str(HOLD_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    ticks = len(daemon.named("tick_done"))
    assert holder.wait(timeout=HOLD_SECONDS + 30) == 0
    assert daemon.alive, daemon.tail()
    assert len(daemon.named("tick_done")) <= ticks + 1  # waited: at most the tick in flight
    daemon.wait_for("tick_done", where=lambda e: e["planned"] == 1, after=ticks)
    assert project.contact_count() == 2
    assert [e for e in daemon.events() if e["level"] == "error"] == []
    assert daemon.stop()[0] == 0
