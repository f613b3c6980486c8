"""compose_message (fallback, X's mention rules, refusals) and validate-time length checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import Problem
from engine.messages import (
    MessageContext,
    MessageRefusal,
    Rendered,
    StepTemplates,
    TemplateLibrary,
    check_step_lengths,
    compose_message,
    sample_customers,
)

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)


@pytest.fixture
def library(tmp_path: Path) -> TemplateLibrary:
    folder = tmp_path / "templates"
    folder.mkdir()
    files = {
        "hi.j2": "@{{ customer.handle }} Hi {{ customer.name|first_name }}!",
        "long.j2": "@{{ customer.handle }} {{ 'word ' * 60 }}",
        "short.j2": "@{{ customer.handle }} Thanks!",
        "no_handle.j2": "Thanks {{ customer.name|first_name }}!",
        "others.j2": "@{{ customer.handle }} ask @Support_Team or @help",
        "broken.j2": "@{{ customer.handle }}\n{{ customer.nope }}",
        "full_name.j2": "@{{ customer.handle }} Dear {{ customer.name|default('friend') }},"
        " {{ 'thank you so much for being with us. ' * 4 }}",
    }
    for name, source in files.items():
        (folder / name).write_text(source)
    return TemplateLibrary(folder)


def ctx(handle: str = "Jane_Doe", name: str = "Jane Doe") -> MessageContext:
    return MessageContext.build(
        customer={"id": "1", "handle": handle, "name": name, "attributes": {}},
        cadence="welcome",
        step="thanks",
        brand={"handle": "acme"},
        now_utc=NOW,
    )


def compose(library: TemplateLibrary, *templates: str, fallback: str | None = None, **kw: bool):
    return compose_message(
        library, templates=templates, fallback=fallback, context=ctx(), handle="jane_doe", **kw
    )


def test_renders_the_chosen_template(library: TemplateLibrary) -> None:
    assert compose(library, "hi.j2") == Rendered("@Jane_Doe Hi Jane!", 18, "hi.j2")


def test_over_280_uses_the_fallback(library: TemplateLibrary) -> None:
    assert compose(library, "long.j2", fallback="short.j2") == Rendered(
        "@Jane_Doe Thanks!", 17, "short.j2"
    )


def test_over_280_without_fallback_is_refused_never_truncated(library: TemplateLibrary) -> None:
    refusal = compose(library, "long.j2")
    assert isinstance(refusal, MessageRefusal)
    assert (refusal.reason, refusal.detail, refusal.weighted_length) == (
        "too_long",
        "weighted length 309 > 280 (long.j2)",
        309,
    )


def test_fallback_too_long_as_well(library: TemplateLibrary) -> None:
    refusal = compose(library, "long.j2", fallback="long.j2")
    assert isinstance(refusal, MessageRefusal)
    assert refusal.detail == "weighted length 309 > 280 (long.j2); fallback long.j2 is 309"


def test_the_recipient_must_be_mentioned(library: TemplateLibrary) -> None:
    refusal = compose(library, "no_handle.j2")
    assert refusal == MessageRefusal(
        "no_handle",
        "the text does not mention @jane_doe; start the template with @{{ customer.handle }}",
        template="no_handle.j2",
        weighted_length=12,
        text="Thanks Jane!",
    )


def test_other_mentions_need_the_cadence_to_allow_them(library: TemplateLibrary) -> None:
    refusal = compose(library, "others.j2")
    assert isinstance(refusal, MessageRefusal)
    assert (refusal.reason, refusal.detail) == (
        "other_mentions",
        "the text mentions @Support_Team, @help; only the recipient may be mentioned"
        " unless the step sets allow_mentions: true",
    )
    allowed = compose(library, "others.j2", allow_mentions=True)
    assert isinstance(allowed, Rendered)


def test_template_errors_become_a_refusal(library: TemplateLibrary) -> None:
    refusal = compose(library, "broken.j2", fallback="short.j2")
    assert refusal == MessageRefusal(
        "template_error",
        "templates/broken.j2:2: customer.nope is missing"
        " (write customer.nope|default(...) if it can be absent)",
        template="broken.j2",
    )


def step(*templates: str, fallback: str | None = None, mentions: bool = False) -> StepTemplates:
    return StepTemplates(
        cadence="welcome",
        step="thanks",
        templates=templates,
        fallback=fallback,
        allow_mentions=mentions,
        source_file="rules/welcome.yaml",
        line=14,
    )


def test_validate_names_the_customer_that_makes_a_template_too_long(
    library: TemplateLibrary,
) -> None:
    report = check_step_lengths(library, [step("full_name.j2")], sample_customers(), {})
    assert [str(problem) for problem in report.problems] == [
        "rules/welcome.yaml:14: step 'thanks': full_name.j2 renders 294 weighted characters"
        " (over 280) for sample customer @Abcdefghij12345 (Bartholomew-Maximilian Alexander"
        " Friedrich Wolfeschlegelsteinhausenbergerdorff von Hohenzollern-Sigmaringen der"
        " Jüngere III); shorten it or add a fallback: template"
    ]
    assert report.longest == {("welcome", "thanks"): 294}
    assert report.longest_by[("welcome", "thanks")].startswith("@Abcdefghij12345 (")


def test_validate_accepts_a_step_whose_fallback_fits(library: TemplateLibrary) -> None:
    report = check_step_lengths(
        library, [step("full_name.j2", fallback="short.j2")], sample_customers(), {}
    )
    assert report.problems == []
    assert report.longest == {("welcome", "thanks"): 294}


def test_validate_reports_render_and_mention_problems_once(library: TemplateLibrary) -> None:
    report = check_step_lengths(
        library,
        [step("broken.j2"), step("no_handle.j2"), step("others.j2"), step("gone.j2")],
        sample_customers(),
        {},
    )
    assert [str(problem) for problem in report.problems] == [
        "templates/broken.j2:2: customer.nope is missing (write customer.nope|default(...) if it"
        " can be absent) (sample customer @jane_doe (Jane Doe), step 'thanks' at"
        " rules/welcome.yaml:14)",
        "templates/no_handle.j2: the text does not mention @jane_doe; start the template with"
        " @{{ customer.handle }} (sample customer @jane_doe (Jane Doe))",
        "templates/others.j2: the text mentions @Support_Team, @help; only the recipient may be"
        " mentioned unless the step sets allow_mentions: true"
        " (sample customer @jane_doe (Jane Doe))",
    ]


def test_syntax_problems_are_left_to_check(library: TemplateLibrary) -> None:
    (library.folder / "bad.j2").write_text("{{ oops")
    report = check_step_lengths(library, [step("bad.j2")], sample_customers(), {})
    assert report.problems == []
    assert library.check("bad.j2") == [
        Problem(
            "templates/bad.j2",
            1,
            0,
            "unexpected end of template, expected 'end of print statement'.",
        )
    ]


def test_the_sample_cadences_pass_validate_with_the_sample_customers() -> None:
    library = TemplateLibrary(Path(__file__).resolve().parents[1] / "templates")
    steps = [
        step("thanks.j2", fallback="thanks_short.j2"),
        step("check_in.j2"),
        step("gift_a.j2", "gift_b.j2"),
        step("mention_reply.j2"),
        step("winback.j2"),
    ]
    report = check_step_lengths(library, steps, sample_customers(12), {"handle": "acme"})
    assert report.problems == []


def test_sample_customers_are_deterministic_and_awkward() -> None:
    customers = sample_customers(10, seed=3)
    assert customers == sample_customers(10, seed=3)
    assert len(customers) == 10
    names = [c["name"] for c in customers[:6]]
    assert "山田太郎" in names and None in names
    assert any(name and len(name) > 100 for name in names)
    assert any(name and "🌵" in name for name in names)
    assert all(len(c["handle"]) <= 15 for c in customers)
