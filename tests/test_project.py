"""The project check (engine/project.py) and what `validate` and a run must agree on.

Each test here reproduces something a new user hit: a history value only a template names,
keys spelled with a space, a template that is not UTF-8, typos in event types and
attributes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from evaluation_helpers import STARTS, World, at, cadence, write_project
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engine.conditions import Aggregate, HistoryEvent, pretty
from engine.conditions.tokens import KEYWORDS
from engine.demo_data import CUSTOMER_MIX, PROSPECT_MIX
from engine.evaluation.signals import COMPLAINT_EVENT
from engine.history.db import Database
from engine.history.models import Contact
from engine.history.project_data import ProjectData, SampleCustomer, read_project_data
from engine.messages import MessageContext, TemplateLibrary
from engine.messages.context import history_aggregate, history_key
from engine.policy.opt_out import OPT_OUT_EVENT
from engine.project import validate_project
from engine.strategy import ENGAGED_FIRST_EVENT_TYPES
from engine.strategy.vocabulary import PRODUCT_EVENT_TYPES

RunCli = Callable[..., tuple[int, str, str]]

ON_MENTION = "event: mention"
ONE_STEP = "- name: only\n  template: t.j2\n"


def _world(db: Database, tmp_path: Path, template: str, steps: str = ONE_STEP) -> World:
    project = write_project(
        tmp_path / "project",
        {"reply": cadence("reply", ON_MENTION, steps, STARTS)},
        templates={"t.j2": template},
    )
    return World(db, project)


def _texts(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(Contact.text).order_by(Contact.id)))


def _customer_with_purchases(world: World) -> None:
    c1 = world.customer("c1")
    world.event(c1, "purchase", at(-40), amount=30)
    world.event(c1, "purchase", at(-2), amount=20.5)
    world.event(c1, "mention", at(0))


# --- 1. templates can use any history value they name, in the runtime's context --------


def test_a_run_computes_a_history_value_only_the_template_names(
    db: Database, tmp_path: Path
) -> None:
    world = _world(db, tmp_path, '@{{ customer.handle }} {{ history["count(purchase)"] }} orders')
    _customer_with_purchases(world)
    world.run(at(0, hours=1))
    assert _texts(db) == ["@h_c1 2 orders"]
    assert world.decisions() == [("only", "planned", "sent_to_outbox")]


def test_the_event_reads_the_same_in_validate_and_in_a_run(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    world = _world(
        db, tmp_path, "@{{ customer.handle }} {{ event.properties.product }} / {{ event.product }}"
    )
    c1 = world.customer("c1")
    world.event(c1, "mention", at(0), product="mug")
    assert run_cli("validate", cwd=world.project)[:2] == (0, "OK: 1 cadence, 1 step, 1 template\n")
    world.run(at(0, hours=1))
    assert _texts(db) == ["@h_c1 mug / mug"]


def test_validate_computes_the_history_values_a_template_names(
    tmp_path: Path, run_cli: RunCli
) -> None:
    template = '@{{ customer.handle }} {{ history["count(reply)"] + 1 }} replies'
    project = write_project(
        tmp_path / "project",
        {"reply": cadence("reply", ON_MENTION, ONE_STEP, STARTS)},
        templates={"t.j2": template},
    )
    assert run_cli("validate", cwd=project)[:2] == (0, "OK: 1 cadence, 1 step, 1 template\n")


def test_validate_renders_with_the_database_customers_history(tmp_path: Path) -> None:
    template = (
        '@{{ customer.handle }} {% if history["count(purchase)"] > 3 %}{{ "x" * 300 }}{% endif %}'
    )
    project = write_project(
        tmp_path / "project",
        {"reply": cadence("reply", ON_MENTION, ONE_STEP, STARTS)},
        templates={"t.j2": template},
    )
    events = tuple(HistoryEvent("purchase", at(-i), {"amount": 1}) for i in range(1, 6))
    buyer = SampleCustomer({"id": "c9", "handle": "big_buyer", "name": "Bo"}, events)
    check = validate_project(project / "config.yaml", database=ProjectData((buyer,)), now=at(0))
    assert [str(p) for p in check.problems] == [
        f"{project / 'rules' / 'reply.yaml'}:11: step 'only': t.j2 renders 311 weighted characters"
        " (over 280) for sample customer @big_buyer (Bo); shorten it or add a fallback: template"
    ]
    assert (check.strategy, check.library) == (None, None)
    few = SampleCustomer({"id": "c9", "handle": "big_buyer", "name": "Bo"}, events[:2])
    check = validate_project(project / "config.yaml", database=ProjectData((few,)), now=at(0))
    assert check.problems == ()
    assert check.strategy is not None and check.library is not None
    assert [c.name for c in check.strategy.cadences] == ["reply"]


# --- 2. one spelling of history keys, spaces as written --------------------------------


def test_history_keys_are_spelled_as_conditions_are_written() -> None:
    assert history_key("sum(purchase.amount,365d)") == "sum(purchase.amount, 365d)"
    assert history_key(" sum( purchase.amount , 365d ) ") == "sum(purchase.amount, 365d)"
    assert history_key("count(purchase)") == "count(purchase)"
    context = MessageContext.build(
        customer={"handle": "a"},
        cadence="c",
        step="s",
        history={"sum(purchase.amount,365d)": 5, "days_since(purchase)": None},
    )
    assert dict(context.history) == {"sum(purchase.amount, 365d)": 5, "days_since(purchase)": None}
    assert type(context.history).__mro__[1] is dict  # plain data: a dict, nothing to call


_TYPES = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(lambda t: t not in KEYWORDS)
_WINDOWS = st.one_of(
    st.none(),
    st.builds(timedelta, days=st.integers(1, 365)),
    st.builds(timedelta, hours=st.integers(1, 48)),
)


@st.composite
def _aggregates(draw: st.DrawFn) -> Aggregate:
    func = draw(st.sampled_from(("count", "sum", "days_since", "last")))
    prop = draw(_TYPES) if func in ("sum", "last") else None
    within = draw(_WINDOWS) if func in ("count", "sum") else None
    return Aggregate(func, draw(_TYPES), prop, within)  # type: ignore[arg-type]


@given(_aggregates(), st.lists(st.sampled_from(("", " ", "  ")), min_size=4, max_size=4))
@settings(max_examples=150)
def test_every_spelling_of_an_aggregate_is_one_key(aggregate: Aggregate, spaces: list[str]) -> None:
    canonical = pretty(aggregate)
    spaced = canonical.replace("(", "(" + spaces[0], 1).replace(", ", spaces[1] + "," + spaces[2])
    spaced = spaces[3] + spaced.replace(")", spaces[3] + ")")
    assert history_key(aggregate.key) == history_key(spaced) == canonical
    assert history_aggregate(spaced) == aggregate


def test_a_template_reads_a_history_value_spelled_either_way(db: Database, tmp_path: Path) -> None:
    steps = "- name: only\n  when: sum(purchase.amount, 365d) >= 10\n  template: t.j2\n"
    template = (
        '@{{ customer.handle }} {{ history["sum(purchase.amount, 365d)"] }}'
        ' {{ history["sum(purchase.amount,365d)"] }} {{ history["sum( purchase.amount,365d )"] }}'
    )
    world = _world(db, tmp_path, template, steps)
    _customer_with_purchases(world)
    world.run(at(0, hours=1))
    assert _texts(db) == ["@h_c1 50.5 50.5 50.5"]


def test_validate_names_a_history_key_that_is_no_history_function(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.j2").write_text(
        '{{ history["purchases"] }}\n{{ history["count(purchase"] }}\n'
        '{% set k = "count(purchase)" %}{{ history[k] }}\n',
        encoding="utf-8",
    )
    assert [str(p) for p in TemplateLibrary(folder).check("t.j2")] == [
        "templates/t.j2:1: history['purchases'] is not a history function"
        ' (write one as in a condition, e.g. history["count(purchase)"])',
        "templates/t.j2:2: history['count(purchase']: unbalanced parenthesis: '(' is never closed"
        ' (write e.g. history["count(purchase)"])',
        'templates/t.j2:3: write the history key out, e.g. history["count(purchase)"]:'
        " Rapport computes the values a template names",
    ]


# --- 3. a template that is not UTF-8 ------------------------------------------------------


def test_validate_names_a_template_that_is_not_utf8(tmp_path: Path, run_cli: RunCli) -> None:
    project = write_project(
        tmp_path / "project", {"reply": cadence("reply", ON_MENTION, ONE_STEP, STARTS)}
    )
    (project / "templates" / "t.j2").write_bytes("@{{ customer.handle }} caf\xe9".encode("latin-1"))
    code, out, err = run_cli("validate", cwd=project)
    assert (code, out, err) == (1, "templates/t.j2: not UTF-8 text; save it as UTF-8\n", "")


def test_a_run_refuses_to_start_on_a_broken_template(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    world = _world(db, tmp_path, "")
    _customer_with_purchases(world)
    template = world.project / "templates" / "t.j2"
    template.write_bytes("@{{ customer.handle }} caf\xe9".encode("latin-1"))
    code, out, err = run_cli("run", "--once", "--at", "2026-03-02T13:00:00Z", cwd=world.project)
    assert (code, out, err) == (1, "", "error: templates/t.j2: not UTF-8 text; save it as UTF-8\n")
    template.write_text("@{{ customer.handle }} {% if %}", encoding="utf-8")
    code, out, err = run_cli("run", "--once", "--at", "2026-03-02T13:00:00Z", cwd=world.project)
    assert (code, out) == (1, "")
    assert err == "error: templates/t.j2:1: Expected an expression, got 'end of statement block'\n"
    assert world.decisions() == []  # no customer was evaluated, none dropped


# --- 4. typos in event types and attributes are warnings -------------------------------

TYPOS = """\
version: 1
cadence: typos
description: test
audience: everyone
priority: 50
channel: review
trigger:
  event: purchse
  where: customer.teir == "gold" and count(purchases) >= 1
exit_on: [complain]
steps:
  - name: only
    unless: replied
    template: t.j2
"""
TYPO_WARNINGS = [
    "rules/typos.yaml:8:10: warning: trigger.event: unknown event type 'purchse';"
    " did you mean 'purchase'?",
    "rules/typos.yaml:9:10: warning: trigger.where: no customer has the attribute"
    " 'customer.teir'; did you mean 'customer.tier'?",
    "rules/typos.yaml:9:44: warning: trigger.where: unknown event type 'purchases';"
    " did you mean 'purchase'?",
    "rules/typos.yaml:10:11: warning: exit_on[0]: unknown event type 'complain';"
    " did you mean 'complaint'?",
    "rules/typos.yaml:13:13: warning: steps[0].unless: unknown event type 'replied';"
    " did you mean 'reply'?",
    "templates/t.j2:1: warning: history['count(purchses)']: unknown event type 'purchses';"
    " did you mean 'purchase'?",
    "templates/t.j2:1: warning: no customer has the attribute 'customer.teir';"
    " did you mean 'customer.tier'?",
]


def test_validate_warns_about_typos_against_the_database(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    template = (
        '@{{ customer.handle }} {{ history["count(purchses)"] }} {{ customer.teir|default("") }}'
        ' {{ customer["shoe_size"]|default("") }}'  # absent but far from any: may be meant
    )
    world = World(
        db, write_project(tmp_path / "project", {"typos": TYPOS}, templates={"t.j2": template})
    )
    c1 = world.customer("c1", tier="gold")
    world.event(c1, "purchase", at(0), amount=3)
    code, out, err = run_cli("validate", cwd=world.project)
    assert (code, err) == (0, "")
    assert out.splitlines() == [*TYPO_WARNINGS, "OK: 1 cadence, 1 step, 1 template"]
    code, out, _ = run_cli("validate", "--format", "json", cwd=world.project)
    assert code == 0
    assert [p["severity"] for p in json.loads(out)] == ["warning"] * len(TYPO_WARNINGS)
    assert json.loads(out)[0] == {
        "file": "rules/typos.yaml",
        "line": 8,
        "col": 10,
        "message": "trigger.event: unknown event type 'purchse'; did you mean 'purchase'?",
        "severity": "warning",
    }


def test_an_unknown_type_is_named_with_the_types_the_database_has(
    db: Database, tmp_path: Path
) -> None:
    rule = TYPOS.replace("event: purchse", "event: signup").replace("customer.teir", "customer.zz")
    world = World(db, write_project(tmp_path / "project", {"typos": rule}))
    c1 = world.customer("c1", tier="gold")
    world.event(c1, "purchase", at(0), amount=3)
    world.event(c1, "newsletter_click", at(0))
    data = read_project_data(f"sqlite:///{tmp_path / 'rapport.db'}")
    check = validate_project(world.project / "config.yaml", database=data)
    messages = [p.message for p in check.warnings if p.line in (8, 9) and p.col < 30]
    assert messages == [
        "trigger.event: no 'signup' events in the database"
        " (types there: newsletter_click, purchase)",
        "trigger.where: no customer has the attribute 'customer.zz'"
        " (a missing attribute is null, and comparisons with null are false)",
    ]
    assert check.errors == () and check.strategy is not None


def test_without_data_only_names_close_to_a_known_one_warn(tmp_path: Path) -> None:
    rule = TYPOS.replace("event: purchse", "event: signup").replace("customer.teir", "customer.zz")
    project = write_project(tmp_path / "project", {"typos": rule})
    absent = tmp_path / "none" / "rapport.db"
    data = read_project_data(f"sqlite:///{absent}")
    assert data == ProjectData() and not absent.parent.exists()  # never creates a database
    check = validate_project(project / "config.yaml", database=data)
    assert [p.line for p in check.warnings] == [9, 10, 13]  # purchases, complain, replied


def test_the_product_event_types_are_the_ones_rapport_writes() -> None:
    written = {*ENGAGED_FIRST_EVENT_TYPES, "keyword", OPT_OUT_EVENT, COMPLAINT_EVENT}
    # The demo's mix names keyword events by what they are about ('keyword about brand').
    demo = {kind.split()[0] for kind, _ in (*CUSTOMER_MIX, *PROSPECT_MIX)}
    assert written | demo == PRODUCT_EVENT_TYPES
