"""Template-injection payloads: each is refused, or bounded, with the template and line.

Payloads sit on line 2 of their template (line 1 is plain text) so the line in the
message is checked too. `check` (validate time) catches what can be seen in the source;
`render` refuses the rest at run time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.messages import (
    MessageContext,
    TemplateError,
    TemplateLibrary,
    sample_customers,
    sample_event,
)

PRIVATE = "'{}' is not available in message templates (names with _ are private)"
STEPS = "the template runs over 100000 steps (loops, calls, filters); simplify it"

# (payload, message from render; refused at parse time when marked so)
PAYLOADS = [
    ("{{ customer.__class__ }}", PRIVATE.format("__class__")),
    ("{{ customer.__class__.__mro__ }}", PRIVATE.format("__class__")),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", PRIVATE.format("__class__")),
    ("{{ ().__class__.__base__.__subclasses__() }}", PRIVATE.format("__base__")),
    ("{{ cycler.__init__.__globals__ }}", PRIVATE.format("__globals__")),
    ("{{ self._TemplateReference__context }}", PRIVATE.format("_TemplateReference__context")),
    ("{{ self }}", "'self' is not available in message templates"),
    ("{{ customer['__class__'] }}", PRIVATE.format("__class__")),
    ("{{ customer|attr('__class__') }}", "filter 'attr' is not allowed in message templates"),
    ("{{ customer.name|attr('format') }}", "filter 'attr' is not allowed in message templates"),
    ("{{ customer.name|format('x') }}", "filter 'format' is not allowed in message templates"),
    ("{{ customer.name|map('upper')|list }}", "filter 'map' is not allowed in message templates"),
    ("{{ customer.name|center(1000) }}", "filter 'center' is not allowed in message templates"),
    ("{{ '{0.__class__}'.format(customer) }}", "str.format is not available in message templates"),
    ("{{ 'x'.format_map(customer) }}", "str.format_map is not available in message templates"),
    ("{{ '%s' % customer }}", "'%' formatting is not allowed in message templates; use filters"),
    ("{{ '%999999999s' % 1 }}", "'%' formatting is not allowed in message templates; use filters"),
    ("{{ range(10**9) }}", "range() of 1000000000 items is over the limit of 1000"),
    ("{{ range(10**9)|list }}", "range() of 1000000000 items is over the limit of 1000"),
    (
        "{{ 'x' * 10**9 }}",
        "repeating a value 1000000000 times is over the limit of 10000 characters or items",
    ),
    (
        "{{ [1] * 10**8 }}",
        "repeating a value 100000000 times is over the limit of 10000 characters or items",
    ),
    (
        "{{ ('x' ~ 'x') * 6000 }}",
        "repeating a value 6000 times is over the limit of 10000 characters or items",
    ),
    ("{{ 2**100000 }}", "a number over 4096 bits is not allowed"),
    ("{{ 99**99**99 }}", "a number over 4096 bits is not allowed"),
    (
        "{% set s = 'xxxxxxxxxx' %}{% set s = s ~ s ~ s ~ s %}{% set s = s ~ s ~ s ~ s %}"
        "{% set s = s ~ s ~ s ~ s %}{% set s = s ~ s ~ s ~ s %}{% set s = s ~ s ~ s ~ s %}",
        "a value of 10240 characters or items is over the limit of 10000",
    ),
    (
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        STEPS,
    ),
    (
        "{% for a in range(1000) %}{% for b in range(1000) if false %}{% endfor %}{% endfor %}",
        STEPS,
    ),
    (
        "{{ customer.name|replace('', customer.name * 1000) }}",
        "replace() would make a text over 10000 characters",
    ),
    ("{{ customer.name.center(10**9) }}", "str.center is not available in message templates"),
    ("{{ customer.name.ljust(10**9) }}", "str.ljust is not available in message templates"),
    ("{{ now.replace(year=1) }}", "datetime.replace is not available in message templates"),
    ("{{ now.tzinfo }}", "datetime.tzinfo is not available in message templates"),
    (
        "{{ customer.attributes.update({'a': 1}) }}",
        "customer.attributes.update is missing"
        " (write customer.attributes.update|default(...) if it can be absent)",
    ),
    ("{{ lipsum() }}", "'lipsum' is undefined"),
    ("{{ dict(a=1) }}", "'dict' is undefined"),
    ("{{ namespace() }}", "'namespace' is undefined"),
    ("{{ config }}", "'config' is undefined"),
    (
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "macros are not allowed in message templates",
    ),
    (
        "{% include 'thanks.j2' %}",
        "{% include %} is not allowed in message templates"
        " (use the step's fallback: for a shorter version)",
    ),
    ("{% extends '../../etc/passwd' %}", "{% extends %} is not allowed in message templates"),
    ("{% import 'x.j2' as x %}", "{% import %} is not allowed in message templates"),
    (
        "{% set x %}{{ customer }}{% endset %}",
        "{% set %}...{% endset %} blocks are not allowed in message templates;"
        " use {% set name = value %}",
    ),
    (
        "{% filter upper %}x{% endfilter %}",
        "{% filter %} blocks are not allowed in message templates; apply the filter to a value",
    ),
    (
        "{% for x in [1] recursive %}{{ loop([]) }}{% endfor %}",
        "recursive loops are not allowed in message templates",
    ),
    ("{% for x in [1] %}{{ loop.__class__ }}{% endfor %}", PRIVATE.format("__class__")),
]


@pytest.fixture
def library(tmp_path: Path) -> TemplateLibrary:
    folder = tmp_path / "templates"
    folder.mkdir()
    return TemplateLibrary(folder)


@pytest.fixture
def context() -> MessageContext:
    return MessageContext.build(
        customer=sample_customers(1)[0],
        event=sample_event(),
        cadence="c",
        step="s",
        brand={"handle": "brand"},
        now_utc=datetime(2026, 3, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(("payload", "message"), PAYLOADS)
def test_payload_is_refused_with_template_and_line(
    library: TemplateLibrary, context: MessageContext, payload: str, message: str
) -> None:
    (library.folder / "evil.j2").write_text(f"@{{{{ customer.handle }}}} hello\n{payload}\n")
    with pytest.raises(TemplateError) as caught:
        library.render("evil.j2", context)
    assert str(caught.value) == f"templates/evil.j2:2: {message}"
    assert (caught.value.template, caught.value.line) == ("evil.j2", 2)


def test_payloads_visible_in_the_source_are_caught_at_validate_time(
    library: TemplateLibrary,
) -> None:
    (library.folder / "evil.j2").write_text(
        "line one\n{{ self._TemplateReference__context }}\n{{ customer|attr('x') }}\n"
        "{{ cycler.__init__.__globals__ }}\n{% include 'a.j2' %}\n"
    )
    assert [str(problem) for problem in library.check("evil.j2")] == [
        PRIVATE.format("_TemplateReference__context").join(["templates/evil.j2:2: ", ""]),
        "templates/evil.j2:2: 'self' is not available in message templates",
        "templates/evil.j2:3: filter 'attr' is not allowed in message templates",
        PRIVATE.format("__globals__").join(["templates/evil.j2:4: ", ""]),
        PRIVATE.format("__init__").join(["templates/evil.j2:4: ", ""]),
        "templates/evil.j2:4: unknown variable 'cycler'"
        " (known: brand, cadence, customer, event, history, now, range, step)",
        "templates/evil.j2:5: {% include %} is not allowed in message templates"
        " (use the step's fallback: for a shorter version)",
    ]


def test_output_is_capped_while_streaming(
    library: TemplateLibrary, context: MessageContext
) -> None:
    (library.folder / "big.j2").write_text(
        "@{{ customer.handle }}\n{% for i in range(1000) %}{{ 'xxxxxxxxxx' }}{% endfor %}\n"
    )
    with pytest.raises(TemplateError) as caught:
        library.render("big.j2", context)
    assert str(caught.value) == "templates/big.j2:2: the output is over 2048 characters"


def test_allowed_methods_still_work(library: TemplateLibrary, context: MessageContext) -> None:
    (library.folder / "ok.j2").write_text(
        "{{ customer.name.upper() }} {{ customer.get('tier') }} {{ now.strftime('%A') }}"
        "{% for x in range(3) %} {{ loop.index }}{{ loop.cycle('a', 'b') }}{% endfor %}"
    )
    assert library.render("ok.j2", context) == "JANE DOE gold Saturday 1a 2b 3a"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "../outside.j2",
            "'../outside.j2' is not a template name (use a file name like thanks.j2)",
        ),
        ("/etc/passwd", "'/etc/passwd' is not a template name (use a file name like thanks.j2)"),
        ("a/../../x.j2", "'a/../../x.j2' is not a template name (use a file name like thanks.j2)"),
        ("link.j2", "'link.j2' leads outside the templates folder"),
        ("missing.j2", "template 'missing.j2' not found in templates/"),
    ],
)
def test_names_outside_the_folder_are_refused(
    library: TemplateLibrary, context: MessageContext, tmp_path: Path, name: str, message: str
) -> None:
    secret = tmp_path / "secret.j2"
    secret.write_text("top secret")
    (library.folder / "link.j2").symlink_to(secret)
    with pytest.raises(TemplateError) as caught:
        library.render(name, context)
    assert str(caught.value) == f"templates/{name}: {message}"
    assert "link.j2" not in library.names()


def test_symlink_inside_the_folder_is_served(
    library: TemplateLibrary, context: MessageContext
) -> None:
    (library.folder / "real.j2").write_text("@{{ customer.handle }} hi")
    (library.folder / "alias.j2").symlink_to(library.folder / "real.j2")
    assert library.render("alias.j2", context) == "@jane_doe hi"


NESTED = (
    "a value of more than 10000 characters or items (nested ones included)"
    " is over the limit of 10000"
)
_DOUBLED = "{% set x = [1] %}" + "{% set x = [x, x] %}" * 40
_DOUBLED_Y = "{% set y = [1] %}" + "{% set y = [y, y] %}" * 40

# values that are small objects but huge when walked (printed, compared, concatenated)
NESTED_PAYLOADS = [
    (_DOUBLED + "{{ x }}", NESTED),
    (_DOUBLED + _DOUBLED_Y + "{{ x == y }}", NESTED),
    (_DOUBLED + "{{ x ~ 'a' }}", NESTED),
    ("{% set x = (1,) %}" + "{% set x = (x, x) %}" * 40 + "{{ x }}", NESTED),
    ("{% set x = {'a': 1} %}" + "{% set x = {'a': x, 'b': x} %}" * 40 + "{{ x }}", NESTED),
    ("{{ [[[1]*9999]*1000]*1000 }}", NESTED),
    ("{{ ([[1]*9999]*1000)|sum(start=[])|length }}", NESTED),
    (
        "{{ ([[1]*5000, [1]*4000])|sum(start=[])|length }}",
        "sum: only numbers can be added up, not list",
    ),
    ("{{ ['a', 'b']|sum(start='') }}", "sum: only numbers can be added up, not str"),
]


@pytest.mark.parametrize(("payload", "message"), NESTED_PAYLOADS)
def test_nested_values_are_bounded_quickly(
    library: TemplateLibrary, context: MessageContext, payload: str, message: str
) -> None:
    (library.folder / "evil.j2").write_text(f"@{{{{ customer.handle }}}} hello\n{payload}\n")
    started = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        library.render("evil.j2", context)
    assert time.monotonic() - started < 5  # a safety bound (it used to run forever)
    assert str(caught.value) == f"templates/evil.j2:2: {message}"


def test_literals_and_numeric_sums_still_work(
    library: TemplateLibrary, context: MessageContext
) -> None:
    (library.folder / "ok.j2").write_text(
        "{{ [1, 2, 3]|sum }} {{ [1.5, 2]|sum(start=1) }} {{ [{'n': 2}, {'n': 3}]|sum('n') }}"
        " {% set a, b = 1, 2 %}{{ a }}{{ b }}"
        " {% for k, v in {'a': 1}|items %}{{ k }}{{ v }}{% endfor %} {{ (1, 2)|list }}"
    )
    assert library.render("ok.j2", context) == "6 4.5 5 12 a1 [1, 2]"
