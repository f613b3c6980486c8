"""explain: each cadence, enrolled or not and why, from the preview evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluation_helpers import World, at, cadence, write_project

from engine.facts.loading import find_customer_ids
from engine.history.db import Database
from engine.modes.explain import explain

pytestmark = pytest.mark.backends

STEPS = "- name: hello\n  template: t.j2\n- name: later\n  after: 2d\n  template: t.j2\n"


def test_explain_says_why_and_why_not(db: Database, tmp_path: Path) -> None:
    rules = {
        "buyers": cadence("buyers", "event: purchase", STEPS, "starts: 2026-01-01T00:00:00Z\n"),
        "talkers": cadence("talkers", "event: mention", STEPS, "starts: 2026-01-01T00:00:00Z\n"),
    }
    world = World(db, write_project(tmp_path / "p", rules))
    customer = world.customer("c1")
    world.event(customer, "purchase", at(0), amount=30)
    world.run(at(0.5))
    before = world.row_counts()
    lines = explain(db, world.settings, "c1", now=at(3))
    assert world.row_counts() == before
    text = "\n".join(lines)
    assert "customer c1 (@h_c1, customer, UTC)" in text
    assert "enrolled 2026-03-02T12:00:00Z, finished" in text
    assert "step later: planned — sent_to_outbox" in text
    assert "@h_c1 buyers/later for Name c1" in text
    assert "not enrolled: no mention event since go-live 2026-01-01T00:00:00Z" in text


def test_an_id_wins_over_a_handle_and_at_means_a_handle(db: Database, tmp_path: Path) -> None:
    """Customer '42' and another whose handle is 42: one key never names both."""
    rules = {
        "buyers": cadence("buyers", "event: purchase", STEPS, "starts: 2026-01-01T00:00:00Z\n")
    }
    world = World(db, write_project(tmp_path / "p", rules))
    world.customer("42", handle="someone")
    world.customer("c2", handle="42")
    assert find_customer_ids(db, "42") == [1]
    assert find_customer_ids(db, "@42") == [2]
    assert find_customer_ids(db, "SOMEONE") == [1]
    assert explain(db, world.settings, "@42", now=at(1))[0].startswith("customer c2 (@42,")


def test_explain_names_a_reentry_duration_as_written(db: Database, tmp_path: Path) -> None:
    rules = {
        "buyers": cadence(
            "buyers", "event: purchase", STEPS, "starts: 2026-01-01T00:00:00Z\nreentry: 180d\n"
        )
    }
    world = World(db, write_project(tmp_path / "p", rules))
    customer = world.customer("c1")
    world.event(customer, "purchase", at(0), amount=30)
    world.run(at(0.5))
    world.run(at(3))
    world.event(customer, "purchase", at(4), amount=30)
    lines = explain(db, world.settings, "c1", now=at(5))
    assert "  not enrolled again: reentry 180d or an active enrolment blocks" in lines, lines
