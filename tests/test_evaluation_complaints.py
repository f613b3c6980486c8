"""docs/policy.md, Complaints, through the real pipeline: no unsolicited contact after one."""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluation_helpers import ONE_STEP, STARTS, World, at, cadence, write_project

from engine.history.db import Database

pytestmark = pytest.mark.backends


def test_without_complaint_block_a_complaint_stops_proactive_contact_for_good(
    db: Database, tmp_path: Path
) -> None:
    rules = {"w": cadence("w", "when: count(purchase) >= 1", ONE_STEP, "")}
    w = World(db, write_project(tmp_path / "project", rules))
    c = w.customer("c1")
    w.event(c, "purchase", at(-3), amount=30)
    w.event(c, "complaint", at(-400), text="your coffee made me sick, leave me alone")
    w.run(at(0))
    assert w.contacts() == []
    assert w.decisions() == [("only", "dropped", "complaint_block")]


def test_a_reply_to_a_summons_after_a_complaint_is_sent(db: Database, tmp_path: Path) -> None:
    reply = cadence("r", "event: mention", ONE_STEP, STARTS, "x")
    w = World(db, write_project(tmp_path / "project", {"r": reply}))
    c = w.customer("c1")
    w.event(c, "complaint", at(-1), text="cold coffee again")
    w.event(c, "mention", at(0), post_id="300", text="@acme can you help?")
    w.run(at(0, minutes=1))
    assert [(cad, step) for _, cad, step, _ in w.contacts()] == [("r", "only")]
