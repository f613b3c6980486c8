"""Hypothesis invariants of the evaluation over random histories, strategies and run times.

Whatever the rules and however often the evaluation runs: no cap is ever exceeded in any
window, no occurrence is produced twice, nothing is planned in the customer's quiet
hours, held-out customers are never messaged, and two runs at one `now` equal one run.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from evaluation_helpers import T0, World, cadence, write_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from engine.config import QuietHours
from engine.history.db import Database
from engine.policy import GLOBAL_SCOPE, in_holdout

ZONES = ("UTC", "America/Los_Angeles", "Asia/Kathmandu", "Australia/Lord_Howe")
QUIET = QuietHours(
    datetime.strptime("21:00", "%H:%M").time(), datetime.strptime("09:00", "%H:%M").time()
)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file, copied for every example (migrations are slow-ish)."""
    path = tmp_path_factory.mktemp("template") / "rapport.db"
    Database.open(f"sqlite:///{path}").dispose()
    return path


step_st = st.fixed_dictionaries(
    {
        "after": st.sampled_from(["0d", "6h", "1d", "2d"]),
        "expires": st.sampled_from([None, "12h", "1d"]),
        "unless": st.sampled_from([None, None, "reply"]),
    }
)
cadence_st = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["purchase", "purchase", "mention"]),
        "priority": st.integers(0, 100),
        "reentry": st.sampled_from(["never", "always", "2d"]),
        "holdout": st.sampled_from([None, "30%"]),
        "exit_on": st.sampled_from([None, "[complaint]"]),
        "cap": st.sampled_from([None, "{max: 1, per: 2d}"]),
        "steps": st.lists(step_st, min_size=1, max_size=3),
    }
)
event_st = st.tuples(
    st.integers(0, 3),  # customer index
    st.sampled_from(["purchase", "purchase", "mention", "reply", "complaint"]),
    st.integers(0, 10 * 24 * 4),  # quarter hours after T0
)
policy_st = st.fixed_dictionaries(
    {
        "caps": st.sampled_from([None, "[{max: 1, per: 1d}]", "[{max: 2, per: 3d}]"]),
        "min_gap": st.sampled_from([None, "12h"]),
        "quiet": st.booleans(),
        "global_holdout": st.sampled_from([None, "25%"]),
    }
)
runs_st = st.lists(st.integers(0, 12 * 24), min_size=1, max_size=5).map(sorted)  # hours


def _rules(cadences: list[dict[str, Any]]) -> dict[str, str]:
    rules = {}
    for i, c in enumerate(cadences):
        steps = ""
        for j, s in enumerate(c["steps"]):
            steps += f"- name: s{j}\n  after: {s['after']}\n  template: t.j2\n"
            if s["expires"]:
                steps += f"  expires: {s['expires']}\n"
            if s["unless"]:
                steps += f"  unless: {s['unless']}\n"
        extra = f"starts: 2026-01-01T00:00:00Z\nreentry: {c['reentry']}\n"
        extra += f"holdout: {c['holdout']}\n" if c["holdout"] else ""
        extra += f"exit_on: {c['exit_on']}\n" if c["exit_on"] else ""
        extra += f"cap: {c['cap']}\n" if c["cap"] else ""
        body = cadence(f"k{i}", f"event: {c['event']}", steps, extra)
        rules[f"k{i}"] = body.replace("priority: 50", f"priority: {c['priority']}")
    return rules


def _config(policy: dict[str, Any]) -> str:
    lines = ["timezone: UTC", "policy:", "  opt_out_words: [stop]"]
    if policy["caps"]:
        lines.append(f"  caps: {policy['caps']}")
    if policy["min_gap"]:
        lines.append(f"  min_gap: {policy['min_gap']}")
    if policy["quiet"]:
        lines.append('  quiet_hours: "21:00-09:00"')
    if policy["global_holdout"]:
        lines.append(f"  global_holdout: {policy['global_holdout']}")
    return "\n".join(lines) + "\n"


def _build(root: Path, template_db: Path, cadences: Any, policy: Any, events: Any) -> World:
    root.mkdir()
    shutil.copy(template_db, root / "rapport.db")
    db = Database.open(f"sqlite:///{root / 'rapport.db'}", upgrade=False)
    world = World(db, write_project(root / "project", _rules(cadences), config=_config(policy)))
    ids = [world.customer(f"c{i}", timezone=ZONES[i]) for i in range(4)]
    for index, type_, quarter in events:
        props: dict[str, Any] = {"amount": 25, "post_id": f"t{quarter}", "text": "hello"}
        world.event(ids[index], type_, T0 + timedelta(minutes=15 * quarter), **props)
    return world


def _ledger(world: World) -> list[dict[str, Any]]:
    with world.db.read() as session:
        rows = session.execute(
            text(
                "SELECT cu.external_id AS customer, cu.timezone AS tz, co.cadence, co.step,"
                " co.planned_at, co.idempotency_key AS key, co.enrolment_id,"
                " e.state AS enrolment_state"
                " FROM contacts co JOIN customers cu ON cu.id = co.customer_id"
                " JOIN enrolments e ON e.id = co.enrolment_id ORDER BY co.id"
            )
        ).mappings()
        return [
            {
                **row,
                "planned_at": datetime.fromisoformat(str(row["planned_at"])).replace(tzinfo=UTC),
            }
            for row in rows
        ]


def _within_caps(times: list[datetime], max_: int, per: timedelta) -> bool:
    return all(sum(t - per < u <= t for u in times) <= max_ for t in times)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    cadences=st.lists(cadence_st, min_size=1, max_size=3),
    policy=policy_st,
    events=st.lists(event_st, max_size=12),
    runs=runs_st,
)
def test_invariants_hold_for_any_history_and_schedule(
    template_db: Path, cadences: Any, policy: Any, events: Any, runs: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        once = _build(Path(tmp) / "once", template_db, cadences, policy, events)
        twice = _build(Path(tmp) / "twice", template_db, cadences, policy, events)
        try:
            for hour in runs:
                now = T0 + timedelta(hours=hour)
                once.run(now)
                twice.run(now)
                twice.run(now)
            ledger = _ledger(once)
            # Two runs at one now equal one run.
            assert [(r["customer"], r["cadence"], r["step"], r["planned_at"]) for r in ledger] == [
                (r["customer"], r["cadence"], r["step"], r["planned_at"]) for r in _ledger(twice)
            ]
            assert once.enrolments() == twice.enrolments()
            _check_invariants(ledger, cadences, policy)
        finally:
            once.db.dispose()
            twice.db.dispose()


def _check_invariants(ledger: list[dict[str, Any]], cadences: Any, policy: Any) -> None:
    keys = [r["key"] for r in ledger]
    assert len(keys) == len(set(keys))
    occurrences = [(r["enrolment_id"], r["step"]) for r in ledger]
    assert len(occurrences) == len(set(occurrences))
    by_customer: dict[str, list[datetime]] = defaultdict(list)
    by_cadence: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for row in ledger:
        by_customer[row["customer"]].append(row["planned_at"])
        by_cadence[(row["customer"], row["cadence"])].append(row["planned_at"])
        assert row["enrolment_state"] != "held_out"
        if policy["global_holdout"]:
            assert not in_holdout(row["customer"], GLOBAL_SCOPE, 0.25, "rapport")
        if policy["quiet"]:
            local = row["planned_at"].astimezone(ZoneInfo(row["tz"]))
            assert not QUIET.contains(local.time())
    caps = {
        "[{max: 1, per: 1d}]": (1, timedelta(days=1)),
        "[{max: 2, per: 3d}]": (2, timedelta(days=3)),
    }
    for times in by_customer.values():
        if policy["caps"]:
            assert _within_caps(times, *caps[policy["caps"]])
        if policy["min_gap"]:
            ordered = sorted(times)
            assert all(b - a >= timedelta(hours=12) for a, b in pairwise(ordered))
    for (_, name), times in by_cadence.items():
        if cadences[int(name[1:])]["cap"]:
            assert _within_caps(times, 1, timedelta(days=2))
