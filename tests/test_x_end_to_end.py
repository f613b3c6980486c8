"""Mention on X → event → evaluation → reply posted: the whole way, on real HTTP and SQLite."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from evaluation_helpers import World, cadence, write_project

from engine import clock
from engine.delivery.outbox import deliver_due
from engine.history.db import Database
from engine.x.client import XClient
from engine.x.ingest import poll_x
from engine.x.stand_in import StandIn

pytestmark = pytest.mark.backends

REPLY = "- name: reply\n  expires: 1h\n  template: t.j2\n"
STARTS = "starts: 2026-01-01T00:00:00Z\nreentry: always\n"
CONFIG = """\
timezone: UTC
brand: {handle: acme, keywords: [acme]}
policy: {require_consent: true}
channels:
  x: {base_url: "BASE"}
"""


def test_a_customer_and_a_prospect_who_mention_the_brand_get_one_reply_each(
    db: Database, tmp_path: Path, stand_in: StandIn, client: XClient
) -> None:
    rules = {"reply": cadence("reply", "event: mention", REPLY, STARTS, "x")}
    config = CONFIG.replace("BASE", stand_in.base_url)
    w = World(db, write_project(tmp_path / "project", rules, config=config))
    w.customer("c1", handle="jane_doe", consent_at=clock.now() - timedelta(days=30))
    jane = stand_in.mention("jane_doe", "@acme is the grinder back?")
    stranger = stand_in.mention("new_fan", "@acme love it")
    now = clock.now() + timedelta(seconds=1)
    report = poll_x(db, w.settings, now=now, client=client)
    assert report.prospects == ["new_fan"]
    w.run(now)
    for _ in range(2):  # a second pass (or evaluation) never posts again
        deliver_due(db, w.settings, now=now, client=client)
        w.run(now + timedelta(minutes=1))
    posted = {
        r["body"]["reply"]["in_reply_to_tweet_id"]: r["body"]["text"]
        for r in stand_in.requests_to("POST /2/tweets")
    }
    assert len(stand_in.requests_to("POST /2/tweets")) == 2
    assert posted[jane["id"]].startswith("@jane_doe ")
    assert posted[stranger["id"]].startswith("@new_fan ")
