"""explain shows conditions with their values, caps with their contacts, the next look.

The values must be the reference evaluator's (engine/conditions/evaluate.py) on the
customer's history: checked on random customers with hypothesis.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from conftest import RunCli
from evaluation_helpers import World, at, cadence, write_project
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.conditions import (
    Compare,
    Facts,
    HistoryEvent,
    compute_aggregates,
    evaluate,
    parse_condition,
)
from engine.conditions.ast import aggregates_of, walk
from engine.conditions.evaluate import value_of
from engine.history.db import Database
from engine.modes.explain import explain, explain_run
from engine.modes.explain_json import explain_document

WHEN = (
    "sum(purchase.amount, 365d) >= 100 and days_since(purchase) <= 60 or count(visit, 30d) > 1"
    ' or customer.tier == "gold"'
)
RULES = {
    "spenders": cadence("spenders", f"when: {WHEN}", "- name: hi\n  template: t.j2\n"),
    "buyers": cadence(
        "buyers",
        "event: purchase\nwhere: event.amount >= 20",
        "- name: hello\n  template: t.j2\n- name: later\n  after: 3d\n  template: t.j2\n",
        "starts: 2026-01-01T00:00:00Z\n",
    ),
}
CONFIG = (
    'timezone: UTC\npolicy: {caps: [{max: 1, per: 7d}], min_gap: 1d, quiet_hours: "21:00-09:00"}\n'
)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["purchase", "visit"]),
        st.floats(min_value=0, max_value=500),  # days before the evaluation
        st.one_of(st.none(), st.integers(0, 200), st.floats(0, 200, allow_nan=False)),
    ),
    max_size=8,
)
EXAMPLES = 60 if os.environ.get("CI") == "true" else 12


def test_explain_shows_values_caps_quiet_hours_and_the_next_look(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    world = World(db, write_project(tmp_path / "p", RULES, config=CONFIG))
    customer = world.customer("c1", timezone="Europe/Paris")
    world.event(customer, "purchase", at(-400), amount=30)
    world.event(customer, "purchase", at(-1), amount=84.5)
    world.run(at(0))
    lines = explain(db, world.settings, "c1", now=at(1))
    text = "\n".join(lines)
    assert "    sum(purchase.amount, 365d) = 84.50 >= 100 → false" in lines
    assert "    days_since(purchase) = 2 <= 60 → true" in lines
    assert (
        "  where (latest purchase, 2026-03-01T12:00:00Z): event.amount = 84.50 >= 20 → true"
        in lines
    )
    assert "  cap 1 per 1w: 1 of 1 used: 2026-03-02T12:00:00Z (buyers/hello) → full" in lines
    assert "  min_gap 1d: no contact inside → clear" in lines
    assert (
        "  quiet hours 21:00-09:00 (Europe/Paris): local time 2026-03-03 13:00 CET → outside,"
        " may send" in lines
    )
    assert lines[-1] == "next look (wake_at): 2026-03-05T12:00:00Z — buyers/later is due"
    assert "spenders (priority 50, channel review):" in text
    # Due, but the weekly cap is full: the next look is when that contact leaves it.
    later = explain(db, world.settings, "c1", now=at(3))
    assert "  step later: deferred — cap (cap 1 per 1w reached)" in later
    assert later[-1] == "next look (wake_at): 2026-03-09T12:00:00Z — cap 1 per 1w frees"
    code, out, err = run_cli(
        "explain", "c1", "--at", "2026-03-03T12:00:00Z", "--format", "json", cwd=tmp_path / "p"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["wake_at"] == "2026-03-05T12:00:00Z"
    assert document["caps"][0]["contacts"] == [
        {"planned_at": "2026-03-02T12:00:00Z", "cadence": "buyers", "step": "hello"}
    ]


@settings(max_examples=EXAMPLES)
@given(events=EVENTS, tier=st.sampled_from([None, "gold", "silver"]))
def test_explain_values_are_the_reference_evaluators(
    events: list[tuple[str, float, int | float | None]], tier: str | None
) -> None:
    now = at(0)
    past = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        database = Database.open(f"sqlite:///{root / 'r.db'}")
        try:
            world = World(database, write_project(root / "p", RULES, config=CONFIG))
            customer = world.customer("c", **({"tier": tier} if tier else {}))
            ordered = sorted(events, key=lambda e: -e[1])
            for n, (kind, days, amount) in enumerate(ordered):
                when = now - timedelta(days=days) + timedelta(microseconds=n)  # distinct
                props = {} if amount is None else {"amount": amount}
                world.event(customer, kind, when, **props)
                past.append(HistoryEvent(kind, when, props))
            document = explain_document(explain_run(database, world.settings, "c", now=now))
        finally:
            database.dispose()
    expr = parse_condition(WHEN)
    facts = Facts(
        customer={"tier": tier},
        event=None,
        aggregates=compute_aggregates(
            aggregates_of(expr), sorted(past, key=lambda e: e.occurred_at), now
        ),
    )
    (spenders,) = [c for c in document["cadences"] if c["cadence"] == "spenders"]
    (shown,) = [c for c in spenders["conditions"] if c["role"] == "when"]
    assert shown["holds"] is evaluate(expr, facts)
    nodes = [node for node in walk(expr) if isinstance(node, Compare)]
    for node, comparison in zip(nodes, shown["comparisons"], strict=True):
        assert comparison["left"] == value_of(node.left, facts)
        assert comparison["right"] == value_of(node.right, facts)
        assert comparison["holds"] is evaluate(node, facts)
