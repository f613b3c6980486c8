"""What a person reads: durations as written, one time format (Z, whole seconds), a
preview that says what it would do, a simulation titled for its window with a total."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, RunCli
from evaluation_helpers import STARTS, World, at, cadence, write_project

from engine.history.db import Database

EXPIRING = "- name: hello\n  after: 1d\n  expires: 1d\n  template: t.j2\n"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    rules = {"thanks": cadence("thanks", "event: purchase", EXPIRING, STARTS)}
    w = World(db, write_project(tmp_path, rules))
    for n in range(3):
        w.event(w.customer(f"c{n}"), "purchase", at(n), amount=30)
    return w


def test_an_expired_step_says_its_duration_as_written(world: World) -> None:
    world.run(at(-1))  # nobody yet
    world.run(at(0, hours=1))  # c0 enrols
    details = {d.detail for d in world.preview(at(5)).changes.decisions if d.reason == "expired"}
    assert "due 2026-03-03T12:00:00Z, not sendable within 1d" in details


def test_run_once_without_at_prints_whole_seconds(world: World, run_cli: RunCli) -> None:
    code, out, err = run_cli("run", "--once")
    assert code == 0, err
    assert re.fullmatch(rf"evaluated 3 customers at {TIME}: .*\n", out), out


def test_a_preview_says_what_it_would_record(world: World, run_cli: RunCli) -> None:
    code, out, err = run_cli("preview", "--at", "2026-03-05T12:00:00Z")
    assert code == 0, err
    assert "would record 3 decisions" in out
    assert "recorded" not in out


def test_a_simulation_is_titled_for_its_window_with_a_grand_total(
    world: World, run_cli: RunCli
) -> None:
    code, out, err = run_cli(
        "simulate", "--start", "2026-03-02T13:00:00Z", "--end", "2026-03-06T13:00:00Z"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].strip() == (
        "simulation 2026-03-02T13:00:00Z to 2026-03-06T13:00:00Z, every 1d: 3 message(s)"
    )
    assert lines[-1] == (
        "total over 5 evaluations: enrolled 3, planned 3 (review 3), held out 0, deferred 0,"
        " dropped 0, skipped 0, expired 0, exited 0"
    )
    assert all(not re.search(r"\.\d{6}|\+00:00", line) for line in lines)


def test_a_long_simulation_says_how_many_evaluations_before_it_starts(
    world: World, db_url: str
) -> None:
    """10,081 evaluations: the note comes first; the test stops the run after reading it."""
    week_by_minute = ("--start", "2026-03-01", "--end", "2026-03-08", "--every", "1m")
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "simulate", *week_by_minute],
        cwd=world.project,
        env={"RAPPORT_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stderr is not None
        assert process.stderr.readline() == (
            "note: about to run 10,081 evaluations (every 1m from 2026-03-01T00:00:00Z"
            " to 2026-03-08T00:00:00Z); a longer --every runs fewer\n"
        )
    finally:
        # Ctrl-C, so the simulation's scratch copy is cleaned up as it would be for a user.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
