"""simulate: real evaluations over time on a copy; the user's database is untouched."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from evaluation_helpers import World, at, cadence, write_project

from engine.history.db import Database
from engine.modes.simulation import simulate

STEPS = """
- name: hello
  template: t.j2
- name: later
  after: 2d
  template: t.j2
"""


def test_simulate_replays_over_time_and_writes_nothing(db: Database, tmp_path: Path) -> None:
    rules = {"c": cadence("c", "event: purchase", STEPS)}
    world = World(db, write_project(tmp_path / "p", rules))
    for n in range(3):
        world.event(world.customer(f"c{n}"), "purchase", at(n), amount=30)
    world.run(at(10))  # a real run: it must not leak into the simulation's ledger
    before = world.row_counts()
    summaries, decisions = simulate(
        db, world.settings, start=at(-1), end=at(5), every=timedelta(days=1)
    )
    assert world.row_counts() == before
    assert len(summaries) == 7
    planned = [
        (d.customer_external_id, d.step, d.decided_at) for d in decisions if d.outcome == "planned"
    ]
    # Go-live is --start; each evaluation sees only the events up to its time.
    assert planned == [
        ("c0", "hello", at(0)),
        ("c1", "hello", at(1)),
        ("c0", "later", at(2)),
        ("c2", "hello", at(2)),
        ("c1", "later", at(3)),
        ("c2", "later", at(4)),
    ]
