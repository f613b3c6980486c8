"""`brand` in templates is the same at validate time and at send time."""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluation_helpers import ONE_STEP, STARTS, World, at, cadence, write_project
from sqlalchemy import text

from engine.history.db import Database

pytestmark = pytest.mark.backends

CONFIG = "timezone: UTC\nbrand: {handle: acme, keywords: [acme], competitors: [globex]}\n"
TEMPLATE = "@{{ customer.handle }} from {{ brand.handle }}, nicer than {{ brand.competitors[0] }}"


def test_templates_see_the_brand_competitors_when_sending(db: Database, tmp_path: Path) -> None:
    rules = {"p": cadence("p", "event: purchase", ONE_STEP.replace("t.j2", "b.j2"), STARTS)}
    templates = {"b.j2": TEMPLATE}
    world = World(db, write_project(tmp_path / "p", rules, config=CONFIG, templates=templates))
    world.event(world.customer("c1"), "purchase", at(0), amount=30)
    world.run(at(0, hours=1))
    with db.read() as session:
        texts = session.execute(text("SELECT text FROM contacts")).scalars().all()
    assert texts == ["@h_c1 from acme, nicer than globex"]
