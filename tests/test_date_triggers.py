"""Date triggers: the go-live day counts, yearly by default, and explain names the cause."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from evaluation_helpers import T0, World, at, cadence, write_project

from engine.history.db import Database
from engine.modes.explain import explain
from engine.strategy import validate_files

pytestmark = pytest.mark.backends

BIRTHDAY = "- name: hb\n  expires: 1d\n  template: t.j2\n"


def world_with(db: Database, tmp_path: Path, extra: str = "") -> World:
    rules = {"b": cadence("b", "date: customer.birthday", BIRTHDAY, extra)}
    return World(db, write_project(tmp_path / "project", rules))


def test_a_birthday_on_the_go_live_day_is_honoured_that_day(db: Database, tmp_path: Path) -> None:
    """Go-live is the first evaluation, 2026-03-02 12:00Z: 21:00 in Tokyo, 04:00 in LA."""
    w = world_with(db, tmp_path)
    for n, zone in enumerate(("UTC", "Asia/Tokyo", "America/Los_Angeles")):
        w.customer(f"today-{zone}", handle=f"t{n}", timezone=zone, birthday="1990-03-02")
        w.customer(f"yesterday-{zone}", handle=f"y{n}", timezone=zone, birthday="1990-03-01")
    w.run(at(0))
    assert sorted((who, t) for who, _, _, t in w.contacts()) == [
        ("today-America/Los_Angeles", at(0)),
        ("today-Asia/Tokyo", at(0)),
        ("today-UTC", at(0)),
    ]
    assert [t for _, t, _, _ in w.enrolments()] == [
        at(0, hours=-12),  # 00:00 UTC
        at(0, hours=-21),  # 00:00 in Tokyo
        at(0, hours=-4),  # 00:00 in Los Angeles
    ]


def test_a_date_trigger_without_reentry_is_yearly(db: Database, tmp_path: Path) -> None:
    w = world_with(db, tmp_path, "starts: 2026-01-01T00:00:00Z\n")
    _, problems = validate_files(w.project / "rules", templates_dir=w.project / "templates")
    assert problems == []
    w.customer("c1", timezone="UTC", birthday="1990-03-02")
    for year in (2026, 2027, 2028):
        w.run(T0.replace(year=year))
        w.run(T0.replace(year=year, day=3))
    assert [t for _, t, _, _ in w.enrolments()] == [
        datetime(year, 3, 2, tzinfo=UTC) for year in (2026, 2027, 2028)
    ]


@pytest.mark.parametrize(
    ("birthday", "starts", "reason"),
    [
        (
            "1990-02-20",
            "2026-02-25T00:00:00Z",
            "the latest customer.birthday, 2026-02-20T00:00:00Z, is before go-live"
            " 2026-02-25T00:00:00Z (next: 2027-02-20T00:00:00Z)",
        ),
        (
            "06/16/1980",
            "2026-01-01T00:00:00Z",
            "customer.birthday '06/16/1980' is not a usable date (write dates as YYYY-MM-DD)",
        ),
        (None, "2026-01-01T00:00:00Z", "no customer.birthday on file"),
    ],
)
def test_explain_names_why_a_date_did_not_enrol(
    db: Database, tmp_path: Path, birthday: str | None, starts: str, reason: str
) -> None:
    w = world_with(db, tmp_path, f"starts: {starts}\n")
    attributes = {} if birthday is None else {"birthday": birthday}
    w.customer("c1", timezone="UTC", **attributes)
    assert f"  not enrolled: {reason}" in explain(db, w.settings, "c1", now=at(0))


def test_explain_says_already_enrolled_this_year(db: Database, tmp_path: Path) -> None:
    w = world_with(db, tmp_path, "starts: 2026-01-01T00:00:00Z\n")
    w.customer("c1", timezone="UTC", birthday="1990-03-02")
    w.run(at(0))
    lines = explain(db, w.settings, "c1", now=at(3))
    assert (
        "  not enrolled again: already enrolled for 2026-03-02T00:00:00Z"
        " (next: 2027-03-02T00:00:00Z)"
    ) in lines, lines
