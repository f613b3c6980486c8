"""Template checks with their exact messages, our filters, and the plain-data context."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from engine.messages import MessageContext, Record, TemplateError, TemplateLibrary
from engine.messages.filters import first_name, money

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
CUSTOMER = {
    "id": "c-1",
    "handle": "jane_doe",
    "name": "Jane Doe",
    "timezone": "Asia/Tokyo",
    "kind": "customer",
    "attributes": {"city": "Boston", "tier": None, "name": "not me", "address": {"zip": "02110"}},
}


@pytest.fixture
def library(tmp_path: Path) -> TemplateLibrary:
    folder = tmp_path / "templates"
    folder.mkdir()
    return TemplateLibrary(folder)


def context(**overrides: object) -> MessageContext:
    values: dict = {
        "customer": CUSTOMER,
        "event": {
            "type": "purchase",
            "occurred_at": datetime(2026, 3, 1, 12, tzinfo=UTC),
            "properties": {"amount": 42.5},
        },
        "cadence": "welcome",
        "step": "thanks",
        "brand": {"handle": "acme", "keywords": ["acme"], "competitors": []},
        "history": {"count(purchase)": 2},
        "now_utc": NOW,
    }
    values.update(overrides)
    return MessageContext.build(**values)


def render(library: TemplateLibrary, source: str, **overrides: object) -> str:
    (library.folder / "t.j2").write_text(source)
    return library.render("t.j2", context(**overrides))


def check(library: TemplateLibrary, source: str) -> list[str]:
    (library.folder / "t.j2").write_text(source)
    return [str(problem) for problem in library.check("t.j2")]


def test_syntax_errors_name_template_and_line(library: TemplateLibrary) -> None:
    assert check(library, "hello\n{{ customer.name }\n") == ["templates/t.j2:2: unexpected '}'"]
    assert check(library, "a\n\n{% endfor %}") == [
        "templates/t.j2:3: Encountered unknown tag 'endfor'."
    ]
    with pytest.raises(TemplateError) as caught:
        render(library, "a\n{% if %}x{% endif %}")
    assert str(caught.value) == (
        "templates/t.j2:2: Expected an expression, got 'end of statement block'"
    )


def test_unknown_variable_and_filter_with_a_suggestion(library: TemplateLibrary) -> None:
    assert check(library, "@{{ custmer.handle }}\n{{ customer.name|frist_name }}\n") == [
        "templates/t.j2:1: unknown variable 'custmer' (did you mean 'customer'?)",
        "templates/t.j2:2: unknown filter 'frist_name' (did you mean 'first_name'?)",
    ]


def test_template_variables_and_loop_names_are_known(library: TemplateLibrary) -> None:
    source = "{% set n = 1 %}{% for x in range(2) %}{{ x }}{{ loop.index }}{% endfor %}{{ n }}"
    assert check(library, source) == []


def test_missing_attribute_names_the_path(library: TemplateLibrary) -> None:
    with pytest.raises(TemplateError) as caught:
        render(library, "@{{ customer.handle }}\nfrom {{ customer.country }}")
    assert str(caught.value) == (
        "templates/t.j2:2: customer.country is missing"
        " (write customer.country|default(...) if it can be absent)"
    )
    with pytest.raises(TemplateError) as caught:
        render(library, "{{ history['days_since(purchase)'] + 1 }}")
    assert str(caught.value) == (
        "templates/t.j2:1: history['days_since(purchase)'] is missing"
        " (write history['days_since(purchase)']|default(...) if it can be absent)"
    )


def test_default_covers_missing_null_and_blank(library: TemplateLibrary) -> None:
    source = "{{ customer.country|default('x') }} {{ customer.tier|default('y') }} {{ ''|d('z') }}"
    assert render(library, source) == "x y z"


def test_context_is_plain_data_in_the_customer_zone() -> None:
    built = context()
    assert isinstance(built.customer, Record)
    assert built.customer["name"] == "Jane Doe"  # core fields win over attributes
    assert built.customer["city"] == "Boston"
    assert built.customer["attributes"]["name"] == "not me"
    assert built.now.isoformat() == "2026-03-15T00:00:00+09:00"
    assert built.event is not None
    assert built.event["amount"] == 42.5
    assert built.event["occurred_at"].utcoffset().total_seconds() == 9 * 3600


def test_unknown_time_zone_falls_back_to_the_default() -> None:
    built = context(
        customer={**CUSTOMER, "timezone": "Mars/Olympus"}, default_timezone="Europe/Paris"
    )
    assert built.customer["timezone"] == "Europe/Paris"


def test_rows_are_copied_not_kept() -> None:
    class Row:  # an ORM-like object: attributes, external_id, a method
        external_id = "ext-9"
        handle = "row_user"
        name = "Row User"
        timezone = None
        kind = "prospect"
        attributes: ClassVar[dict[str, list[str]]] = {"tags": ["a", "b"]}

        def delete(self) -> None: ...

    built = context(customer=Row())
    assert dict(built.customer) == {
        "tags": ("a", "b"),
        "id": "ext-9",
        "handle": "row_user",
        "name": "Row User",
        "timezone": "UTC",
        "kind": "prospect",
        "attributes": {"tags": ("a", "b")},
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Jane Doe", "Jane"),
        ("  jean-luc   Picard ", "jean-luc"),
        ("Dr. Ada Lovelace", "Ada"),
        ("山田太郎", "山田太郎"),
        ("山田 太郎", "山田 太郎"),
        ("김민준", "김민준"),
        ("🌵 Ana López 🌸✨", "Ana"),
        ("Ana🌵", "Ana"),
        ("O'Brien, Pat", "Pat"),
        ("Smith, John", "John"),
        ("Smith,John", "John"),
        ("van der Berg, Anna", "Anna"),
        ("John Smith, Jr.", "John"),
        ("Smith,", "Smith"),
        ("van der Berg", "there"),
        ("Van der Berg", "there"),
        ("Mr. van der Berg", "there"),
        ("Dr. de la Cruz", "there"),
        ("Jan van der Berg", "Jan"),
        ("Van Morrison", "Van"),
        ("😀😀😀", "there"),
        ("", "there"),
        (None, "there"),
    ],
)
def test_first_name(name: str | None, expected: str) -> None:
    assert first_name(name) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (42, "USD", "$42"),
        (42.5, "USD", "$42.50"),
        (1234, "eur", "€1,234"),
        (-3.25, "GBP", "-£3.25"),
        (1500.4, "JPY", "¥1,500"),
        (5, "CHF", "5 CHF"),
    ],
)
def test_money(amount: float, currency: str, expected: str) -> None:
    assert money(amount, currency) == expected


def test_money_refuses_what_is_not_an_amount(library: TemplateLibrary) -> None:
    with pytest.raises(TemplateError) as caught:
        render(library, "\n{{ customer.tier|money }}")
    assert str(caught.value) == (
        "templates/t.j2:2: money: None is not an amount (use |default(0) first)"
    )


def test_days_ago_and_plural(library: TemplateLibrary) -> None:
    source = (
        "{% set d = event.occurred_at|days_ago %}{{ d }} {{ d|plural('day') }},"
        " {{ '2026-03-13'|days_ago }} {{ 1|plural('day') }}, {{ 2|plural('child', 'children') }}"
    )
    assert render(library, source) == "13 days, 1 day, children"


def test_days_ago_of_a_date(library: TemplateLibrary) -> None:
    built = context(customer={**CUSTOMER, "attributes": {"since": date(2026, 3, 1)}})
    (library.folder / "t.j2").write_text("{{ customer.since|days_ago }}")
    assert library.render("t.j2", built) == "14"


def test_names_lists_templates_only_inside(library: TemplateLibrary) -> None:
    (library.folder / "b.j2").write_text("b")
    (library.folder / "sub").mkdir()
    (library.folder / "sub" / "a.j2").write_text("a")
    (library.folder / "notes.txt").write_text("x")
    assert library.names() == ["b.j2", "sub/a.j2"]


def test_edits_are_picked_up(library: TemplateLibrary) -> None:
    assert render(library, "one") == "one"

    (library.folder / "t.j2").write_text("two")
    os.utime(library.folder / "t.j2", ns=(1, 10**18))
    assert library.render("t.j2", context()) == "two"


def test_the_sample_templates_pass_their_checks() -> None:
    library = TemplateLibrary(Path(__file__).resolve().parents[1] / "templates")
    names = library.names()
    for name in ("thanks.j2", "thanks_short.j2", "check_in.j2", "gift_a.j2", "gift_b.j2"):
        assert name in names
    assert {name: library.check(name) for name in names} == {name: [] for name in names}
