"""One reply per summoning post, through the real pipeline: only a send claims the post."""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluation_helpers import World, at, cadence, write_project
from sqlalchemy import text

from engine.history.db import Database

pytestmark = pytest.mark.backends

REPLY = "- name: reply\n  expires: 1h\n  template: t.j2\n"
STARTS = "starts: 2026-01-01T00:00:00Z\nreentry: always\n"


def test_a_reply_held_back_by_its_cap_leaves_the_post_to_the_next_cadence(
    db: Database, tmp_path: Path
) -> None:
    high = cadence("a", "event: mention", REPLY, STARTS + "cap: {max: 1, per: 30d}\n", "x")
    rules = {
        "a": high.replace("priority: 50", "priority: 90"),
        "b": cadence("b", "event: mention", REPLY, STARTS, "x"),
    }
    w = World(db, write_project(tmp_path / "project", rules))
    c = w.customer("c1")
    w.event(c, "mention", at(-2), post_id="100", text="hi @acme")
    w.run(at(-2, minutes=5))  # a replies to 100; b: already_replied
    w.event(c, "mention", at(0), post_id="200", text="hello again @acme")
    w.run(at(0, minutes=5))  # a: cadence_cap (deferred); b replies to 200
    with db.read() as session:
        replies = session.execute(text("SELECT cadence, in_reply_to FROM contacts ORDER BY id"))
        assert [tuple(r) for r in replies] == [("a", "100"), ("b", "200")]
    assert w.decisions() == [
        ("reply", "planned", "sent_to_outbox"),
        ("reply", "dropped", "already_replied"),
        ("reply", "deferred", "cadence_cap"),
        ("reply", "planned", "sent_to_outbox"),
    ]


def test_summons_from_prospects_and_unconsented_customers_take_their_own_ways(
    db: Database, tmp_path: Path
) -> None:
    """A prospect who @mentions the brand gets the automatic reply; a known customer without
    consent gets the same reply planned for review; a consented customer, the automatic one."""
    rules = {"a": cadence("a", "event: mention", REPLY, STARTS, "x")}
    config = "timezone: UTC\npolicy: {require_consent: true}\n"
    w = World(db, write_project(tmp_path / "project", rules, config=config))
    prospect = w.customer("p1", kind="prospect")
    unconsented = w.customer("c1")
    consented = w.customer("c2", consent_at=at(-30))
    for n, who in enumerate((prospect, unconsented, consented)):
        w.event(who, "mention", at(0), post_id=f"{n}00", text="hi @acme")
    w.run(at(0, minutes=5))
    with db.read() as session:
        rows = session.execute(
            text("SELECT customer_id, channel, state, in_reply_to FROM contacts ORDER BY id")
        )
        assert sorted(tuple(r) for r in rows) == [
            (prospect, "x", "planned", "000"),
            (unconsented, "review", "pending_review", "100"),
            (consented, "x", "planned", "200"),
        ]
