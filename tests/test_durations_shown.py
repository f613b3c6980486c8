"""Durations reach people as they were written (`within 1d`), never `1 day, 0:00:00`."""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path

from evaluation_helpers import STARTS, World, at, cadence, write_project
from sqlalchemy import text

from engine.durations import parse_duration
from engine.history.db import Database
from engine.messages.context import plain


def test_a_parsed_duration_prints_as_written_and_is_still_a_timedelta() -> None:
    for written in ("1d", "24h", "90m", "0d", "3w"):
        duration = parse_duration(written)
        assert (str(duration), f"{duration}") == (written, written)
        assert str(pickle.loads(pickle.dumps(duration))) == written  # worker processes
    assert parse_duration("24h") == timedelta(days=1)
    assert parse_duration("1d") + timedelta(hours=1) == timedelta(hours=25)


def test_a_duration_in_a_template_context_is_its_short_spelling() -> None:
    assert plain(timedelta(days=1), "x") == "1d"
    assert plain(parse_duration("48h"), "x") == "48h"


def test_an_expired_step_says_within_as_written(db: Database, tmp_path: Path) -> None:
    steps = "- name: only\n  template: t.j2\n  expires: 1d\n"
    rules = {"quick": cadence("quick", "event: purchase", steps, STARTS)}
    config = 'timezone: UTC\npolicy: {quiet_hours: "00:00-23:59"}\n'
    world = World(db, write_project(tmp_path, rules, config=config))
    world.event(world.customer("c1"), "purchase", at(0))
    world.run(at(0, hours=1))
    world.run(at(3))
    with db.read() as session:
        details = [row for (row,) in session.execute(text("SELECT detail FROM decisions"))]
    assert any("not sendable within 1d" in (row or "") for row in details), details
    assert not any("day," in (row or "") for row in details), details
