"""Date triggers across zone changes: one enrolment per yearly occurrence, whatever the zone.

Local midnight of one date spans 26 hours of UTC instants; a changed zone moves the
instant, and must not enrol the same birthday twice (real SQLite, real pipeline).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from evaluation_helpers import World, at, cadence, write_project
from sqlalchemy import text

from engine.history.db import Database

pytestmark = pytest.mark.backends

BIRTHDAY = "- name: hb\n  expires: 1d\n  template: t.j2\n"
RULES = {
    "b": cadence(
        "b", "date: customer.birthday", BIRTHDAY, "starts: 2026-01-01T00:00:00Z\nreentry: always\n"
    )
}


def make_world(db: Database, tmp_path: Path, config: str) -> World:
    return World(db, write_project(tmp_path / "project", RULES, config=config))


def test_a_changed_default_zone_does_not_enrol_the_same_date_again(
    db: Database, tmp_path: Path
) -> None:
    w = make_world(db, tmp_path, "timezone: Europe/Paris\n")
    w.customer("c1", timezone="", birthday="1990-03-03")  # no zone of its own
    w.run(at(0, hours=11))  # 2026-03-02 23:00Z: midnight of 03-03 in Paris
    (w.project / "config.yaml").write_text("timezone: America/New_York\n")
    w.run(at(0, hours=17))  # 2026-03-03 05:00Z: midnight of 03-03 in New York
    assert [(s, t) for _, _, s, t in w.contacts()] == [("hb", at(0, hours=11))]
    assert [(c, t) for c, t, _, _ in w.enrolments()] == [("b", at(0, hours=11))]


def test_the_widest_zone_change_still_counts_as_the_same_occurrence(
    db: Database, tmp_path: Path
) -> None:
    """UTC+14 to UTC-11: the two midnights are 25 hours apart."""
    w = make_world(db, tmp_path, "timezone: UTC\n")
    w.customer("c1", timezone="Pacific/Kiritimati", birthday="1990-03-04")
    w.run(at(1, hours=-2))  # 2026-03-03 10:00Z: midnight of 03-04 at UTC+14
    with db.write() as session:
        session.execute(text("UPDATE customers SET timezone = 'Pacific/Pago_Pago'"))
    w.run(at(1, hours=23))  # 2026-03-04 11:00Z: midnight of 03-04 at UTC-11
    assert len(w.contacts()) == 1
    assert len(w.enrolments()) == 1


def test_next_year_enrols_again(db: Database, tmp_path: Path) -> None:
    w = make_world(db, tmp_path, "timezone: Europe/Paris\n")
    w.customer("c1", timezone="", birthday="1990-03-03")
    w.run(at(0, hours=11))
    (w.project / "config.yaml").write_text("timezone: America/New_York\n")
    w.run(at(365, hours=17))  # 2027-03-03 05:00Z: midnight of 03-03 in New York
    assert [t for _, _, _, t in w.contacts()] == [at(0, hours=11), at(365, hours=17)]
