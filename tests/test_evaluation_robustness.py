"""One customer's odd row must not stop contact for everyone else (real SQLite, real pipeline)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from evaluation_helpers import ONE_STEP, STARTS, World, at, cadence, write_project
from sqlalchemy import text

from engine.evaluation.pipeline import evaluate_batch, prepare
from engine.evaluation.summary import Summary
from engine.facts.loading import load_batch
from engine.history.db import Database
from engine.ledger.sinks import DatabaseSink
from engine.messages import TemplateLibrary
from engine.strategy import load_strategy

QUIET = "timezone: UTC\npolicy: {quiet_hours: '21:00-09:00'}\n"


def make_world(db: Database, tmp_path: Path, rules: dict[str, str], config: str) -> World:
    return World(db, write_project(tmp_path / "project", rules, config=config))


@pytest.mark.parametrize("unknown", ["Mars/Olympus_Mons", "America", "x" * 300])
def test_an_unknown_time_zone_falls_back_to_the_default_zone(
    db: Database, tmp_path: Path, unknown: str
) -> None:
    # 12:30 UTC is daytime in UTC (the default) and night in Asia/Tokyo (21:30).
    # 'America' is a folder of the zone database and a 300-character name is too long
    # for a file name: zoneinfo raises OSError for both, not ZoneInfoNotFoundError.
    w = make_world(db, tmp_path, {"p": cadence("p", "event: purchase", ONE_STEP, STARTS)}, QUIET)
    good = w.customer("good", timezone="Asia/Tokyo")
    odd = w.customer("odd", timezone=unknown)
    for who in (good, odd):
        w.event(who, "purchase", at(0), amount=30)
    w.run(at(0, hours=0.5))
    assert [(c, cad) for c, cad, _, _ in w.contacts()] == [("odd", "p")]
    assert ("only", "deferred", "quiet_hours") in w.decisions()


def test_a_date_trigger_with_an_unknown_zone_uses_the_default_midnight(
    db: Database, tmp_path: Path
) -> None:
    rules = {"b": cadence("b", "date: customer.birthday", ONE_STEP, STARTS + "reentry: 300d\n")}
    w = make_world(db, tmp_path, rules, "timezone: Europe/Paris\n")
    w.customer("odd", timezone="Europe/Kyiv_Old", birthday="1990-03-03")
    w.run(at(0, hours=11))  # 2026-03-02 23:00Z: midnight of 03-03 in Paris
    assert w.enrolments() == [("b", at(0, hours=11), "finished", 1)]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE customers SET attributes = '[1]' WHERE id = 1",
        "UPDATE customers SET attributes = '\"gold\"' WHERE id = 1",
        "UPDATE events SET properties = '[1, 2]' WHERE customer_id = 1",
        "UPDATE events SET properties = '\"x\"' WHERE customer_id = 1",
    ],
)
def test_json_that_is_not_an_object_reads_as_empty(
    db: Database, tmp_path: Path, statement: str
) -> None:
    rules = {"p": cadence("p", "event: purchase", ONE_STEP, STARTS)}
    w = make_world(db, tmp_path, rules, "timezone: UTC\n")
    first, second = w.customer("c1"), w.customer("c2")
    for who in (first, second):
        w.event(who, "purchase", at(-1), amount=30)
    with db.write() as session:
        session.execute(text(statement))
    w.run(at(0))
    assert [c for c, _, _, _ in w.contacts()] == ["c1", "c2"]
    histories = load_batch(db, [first], at(0), "UTC")
    assert isinstance(histories[0].customer.attributes, dict)
    assert [e.properties for e in histories[0].events] in ([{}], [{"amount": 30}])


def test_a_failing_customer_is_dropped_alone_and_its_partial_changes_discarded(
    db: Database, tmp_path: Path
) -> None:
    """The enrolment is made before the policy fails on the zone: it must not be written."""
    rules = {"p": cadence("p", "event: purchase", ONE_STEP, STARTS)}
    w = make_world(db, tmp_path, rules, QUIET)
    good, bad = w.customer("good"), w.customer("bad")
    for who in (good, bad):
        w.event(who, "purchase", at(0), amount=30)
    settings = w.settings
    strategy = load_strategy(settings.rules_dir, templates_dir=settings.templates_dir)
    now = at(0, hours=0.5)
    evaluation = prepare(
        db, strategy, settings, now=now, library=TemplateLibrary(settings.templates_dir)
    )
    histories = load_batch(db, [good, bad], now, settings.timezone)
    # As if the loader had let an unknown zone through: the quiet-hours stage raises.
    histories[1].customer = replace(histories[1].customer, timezone="Mars/Olympus_Mons")
    changes = evaluate_batch(evaluation, histories)

    assert [e.customer_id for e in changes.new_enrolments] == [good]
    assert [c.customer_id for c in changes.contacts] == [good]
    errors = [d for d in changes.decisions if d.customer_id == bad]
    assert [(d.cadence, d.step, d.outcome, d.reason) for d in errors] == [
        ("*", None, "dropped", "evaluation_error")
    ]
    assert errors[0].detail.startswith("UnknownTimeZone: time zone 'Mars/Olympus_Mons'")

    sink, summary = DatabaseSink(db), Summary(now)
    sink.begin(now, "run", strategy.version_hash)
    sink.apply(changes)
    summary.add(changes, len(histories))
    sink.finish(summary.as_dict())
    assert summary.as_dict()["dropped_by_reason"] == {"evaluation_error": 1}
    assert [c for c, _, _, _ in w.contacts()] == ["good"]
    assert len(w.enrolments()) == 1


def test_now_may_be_naive_utc_or_in_any_zone(db: Database, tmp_path: Path) -> None:
    w = make_world(db, tmp_path, {"p": cadence("p", "event: purchase", ONE_STEP, STARTS)}, QUIET)
    w.event(w.customer("c1"), "purchase", at(0), amount=30)
    naive = at(0, hours=1).replace(tzinfo=None)
    paris = at(0, hours=1).astimezone(ZoneInfo("Europe/Paris"))
    for now in (naive, paris):
        sink = w.preview(now)
        assert [c.planned_at for c in sink.changes.contacts] == [at(0, hours=1)]
        assert sink.now == at(0, hours=1) and sink.now.tzinfo == UTC
    w.run(naive)
    assert w.contacts() == [("c1", "p", "only", at(0, hours=1))]
