"""One fixture per kind of rule error, with the exact message and place it must produce.

Each fixture in tests/fixtures/rules/ is a small cadence file with one mistake; the
expected text is `LINE:COL: message` (the file name is added by the test).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.strategy import validate_files

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
TEMPLATES = FIXTURES / "_templates"
DURATION = "(use a whole number and a unit, e.g. 45s, 30m, 12h, 2d, 3w)"
PERCENT = "(use a percentage between 0% and 100%, e.g. 10% or 2.5%)"
X_ONLY = (
    "(only mention, quote, reply: X allows automated replies only to people who "
    "addressed the brand first; use channel: review)"
)

EXPECTED: dict[str, list[str]] = {
    # YAML itself
    "yaml_syntax": [
        "6:1: YAML syntax error: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence that starts at line 5)"
    ],
    "yaml_colon": [
        "3:20: YAML syntax error: mapping values are not allowed here "
        "(put text that contains ': ' in quotes)"
    ],
    "tab_indent": ["4:1: tab character in indentation; indent with spaces"],
    "tab_in_value": ["4:9: tab character inside a value; replace it with a space"],
    "boolean_key": [
        "8:7: 'yes' is read by YAML as true; put it in quotes ('yes')",
        "9:7: 'off' is read by YAML as false; put it in quotes ('off')",
    ],
    "boolean_value": [  # shown as written, not as Python's True/False
        "2:10: cadence: yes is read by YAML as true; put it in quotes ('yes')",
        "3:11: priority: on (read by YAML as true) should be a whole number",
        "4:10: channel: off (read by YAML as false) is not allowed (use one of: review, x)",
    ],
    "merge_key": ["6:3: merge keys (<<) are not supported; write the keys out"],
    "alias_loop": ["5:10: an alias refers to the value that contains it; write values out"],
    "duplicate_key": ["6:1: duplicate key 'priority' (first written at line 5); keep one"],
    "duplicate_variant": [
        "8:7: steps[0].variants: needs at least 2 entries",
        "9:7: duplicate key 'a' (first written at line 8); keep one",
    ],
    "duplicate_equal_keys": [  # YAML reads 1, 1.0 and true (0, "0" and false) as one key
        "9:7: duplicate key 'true' (first written at line 8); keep one",
        "11:7: duplicate key 'false' (first written at line 10); keep one",
        "12:7: duplicate key '1.0' (first written at line 8); keep one",
        "13:7: duplicate key '0' (first written at line 10); keep one",
    ],
    "empty": ["1:1: the file is empty (a cadence starts with `version: 1`)"],
    "not_a_mapping": ["1:1: the file should be a mapping (key: value)"],
    "control_character": ["2:13: character U+0007 is not allowed in YAML; remove it"],
    "not_utf8": ["1:1: not UTF-8 text (byte 23); save the file as UTF-8"],
    # unknown keys, with did-you-mean or the allowed keys
    "unknown_key_top": ["3:1: 'priorty' is not a key of a cadence; did you mean 'priority'?"],
    "unknown_key_step": ["9:5: 'aftr' is not a key of a step; did you mean 'after'?"],
    "unknown_key_trigger": ["5:3: 'wher' is not a key of the trigger; did you mean 'where'?"],
    "unknown_key_far": ["5:24: 'every' is not a key of a cap (allowed: max, per)"],
    # types, required keys, versions
    "wrong_type": ["3:11: priority: 'high' should be a whole number"],
    "wrong_type_list": ["5:10: exit_on: 'complaint' should be a list"],
    "missing_version": [
        "1:1: 'version' is required in a cadence (add `version: 1` as the first line)"
    ],
    "wrong_version": ["1:10: version: 2 is not supported (use version: 1)"],
    "step_without_name": [
        "6:5: steps[0]: 'name' is required in a step (give each step a name, e.g. `name: thanks`)"
    ],
    "cap_missing_per": ["5:6: cap: 'per' is required in a cap"],
    "no_steps": ["5:8: steps: needs at least 1 item"],
    # allowed values and names
    "bad_enum": [
        "3:11: audience: 'customer' is not allowed; did you mean 'customers'? "
        "(use one of: customers, prospects, everyone)"
    ],
    "priority_range": ["3:11: priority: 150 is out of range (use a number between 0 and 100)"],
    "bad_cadence_name": [
        "2:10: cadence: 'Thank You' is not a cadence name "
        "(use lowercase letters, digits, - and _, e.g. thank-first-purchase)"
    ],
    "bad_event_type": [
        "4:10: trigger.event: 'Purchase Made' is not an event type "
        "(use lowercase letters, digits and _, e.g. purchase)"
    ],
    "bad_variant_name": [
        "7:16: steps[0].variants: 'a b' is not a variant name (use letters, digits, - and _)"
    ],
    "bad_date_attribute": [
        "4:9: trigger.date: 'birthday' is not a date attribute "
        "(use customer.ATTRIBUTE, e.g. customer.birthday)"
    ],
    "bad_starts": [
        "3:9: starts: 'next monday' is not a time "
        "(use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z)"
    ],
    # durations and percentages
    "bad_duration": [f"12:12: steps[2].after: '3 dayz' is not a duration {DURATION}"],
    "duration_number": [f"7:12: steps[0].after: 2 is not a duration {DURATION}"],
    "duration_newline": [
        f"7:12: steps[0].after: '2d\\n' is not a duration {DURATION}",
        f"9:14: steps[0].expires: '3d\\n' is not a duration {DURATION}",
    ],
    "names_newline": [
        "2:10: cadence: 'names-newline\\n' is not a cadence name "
        "(use lowercase letters, digits, - and _, e.g. thank-first-purchase)",
        "4:10: trigger.event: 'purchase\\n' is not an event type "
        "(use lowercase letters, digits and _, e.g. purchase)",
        "5:11: exit_on[0]: 'complaint\\n' is not an event type "
        "(use lowercase letters, digits and _, e.g. purchase)",
        f"6:10: holdout: '5%\\n' is not a percentage {PERCENT}",
        "8:11: steps[0].name: 'thanks\\n' is not a step name "
        "(use lowercase letters, digits, - and _, e.g. check-in)",
        "9:13: steps[0].unless: 'reply\\n' is not an event type "
        "(use lowercase letters, digits and _, e.g. purchase)",
        "10:15: steps[0].template: 'thanks.j2\\n' is not a template file name "
        "(name a file inside templates/, e.g. thanks.j2)",
    ],
    "duration_too_long": ["7:12: steps[0].after: '5000d' is too long (use at most 3650d)"],
    "expires_zero": ["7:14: steps[0].expires: '0h' is too short (use more than 0, e.g. 1h)"],
    "bad_percent": [f"5:10: holdout: 'ten percent' is not a percentage {PERCENT}"],
    "percent_number": [f"5:10: holdout: 0.1 is not a percentage {PERCENT}"],
    "percent_over": [f"5:10: holdout: '150%' is more than 100% {PERCENT}"],
    "percent_all": ["5:10: holdout: '100%' would send nothing (use less than 100%)"],
    # triggers and reentry
    "two_triggers": ["4:3: trigger: the trigger needs exactly one of event, when or date"],
    "no_trigger_kind": ["3:10: trigger: the trigger needs exactly one of event, when or date"],
    "where_without_event": [
        "5:3: trigger.where: 'where' filters an event trigger; add 'event' "
        "(or use 'when' for a condition trigger)"
    ],
    "bad_reentry": [
        "5:10: reentry: 'sometimes' is not never, always or a duration "
        "(use a whole number and a unit, e.g. 180d)"
    ],
    "reentry_zero": ["5:10: reentry: '0d' is too short (use always)"],
    "when_always": [
        "5:10: reentry: 'always' with a when trigger enrols again at the first evaluation "
        "after each enrolment ends (use a duration, e.g. 180d)"
    ],
    "date_never": [
        "5:10: reentry: 'never' with a date trigger enrols only in the first year "
        "(leave reentry out: a date trigger enrols once a year)"
    ],
    # steps and templates
    "duplicate_step": [
        "8:11: steps[1].name: 'thanks' is already the name of steps[0] "
        "(step names must be unique in a cadence)"
    ],
    "template_and_variants": ["6:5: steps[0]: a step needs exactly one of template or variants"],
    "no_template": ["6:5: steps[0]: a step needs exactly one of template or variants"],
    "one_variant": ["7:15: steps[0].variants: needs at least 2 entries"],
    "template_escape": [
        "7:15: steps[0].template: '../secrets.j2' is not a template file name "
        "(name a file inside templates/, e.g. thanks.j2)"
    ],
    "missing_template": [
        "7:15: steps[0].template: template 'thank.j2' not found in "
        "tests/fixtures/rules/_templates/; did you mean 'thanks.j2'?",
        "9:33: steps[1].variants.b: template 'nowhere.j2' not found in "
        "tests/fixtures/rules/_templates/ (add tests/fixtures/rules/_templates/nowhere.j2)",
    ],
    # the X rules (docs/compliance.md)
    "x_not_engaged": [
        f"5:10: trigger.event: channel: x is not allowed with event 'purchase' {X_ONLY}"
    ],
    "x_keyword": [f"6:10: trigger.event: channel: x is not allowed with event 'keyword' {X_ONLY}"],
    "x_when_trigger": [
        "3:10: channel: x needs an event trigger on an engaged-first event (mention, quote, "
        "reply); X allows automated replies only to people who addressed the brand first "
        "(use channel: review)"
    ],
    "x_two_steps": [
        "9:5: steps[1]: channel: x sends one reply per mention; later steps can never be "
        "sent (move them to a review cadence)"
    ],
    "x_prospects": [  # prospects found by search: only a summons may be answered on x
        f"6:10: trigger.event: channel: x is not allowed with event 'keyword' {X_ONLY}"
    ],
}


def problems_of(path: Path) -> list[str]:
    strategy, problems = validate_files(FIXTURES, templates_dir=TEMPLATES, paths=[path])
    assert strategy is None
    return [str(problem) for problem in problems]


@pytest.fixture(autouse=True)
def _from_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files are shown relative to the working folder, as `rapport validate` shows them.
    monkeypatch.chdir(FIXTURES.parent.parent.parent)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_error_kind_has_its_exact_message(kind: str) -> None:
    label = f"tests/fixtures/rules/{kind}.yaml"
    assert problems_of(FIXTURES / f"{kind}.yaml") == [f"{label}:{e}" for e in EXPECTED[kind]]


def test_every_fixture_file_is_covered() -> None:
    files = {p.stem for p in FIXTURES.glob("*.yaml")}
    assert files - set(EXPECTED) == set()


def test_duplicate_cadence_names_across_files_point_at_the_second() -> None:
    assert problems_of(FIXTURES / "duplicate_cadence") == [
        "tests/fixtures/rules/duplicate_cadence/b.yaml:3:10: cadence: 'same-name' is already "
        "defined in tests/fixtures/rules/duplicate_cadence/a.yaml:2 "
        "(cadence names must be unique; rename one)"
    ]


def test_every_problem_of_a_file_is_reported_not_only_the_first(tmp_path: Path) -> None:
    rule = tmp_path / "many.yaml"
    rule.write_text(
        "version: 1\ncadence: many\npriorty: 5\nholdout: 200%\ntrigger:\n  event: purchase\n"
        "steps:\n  - name: a\n    aftr: 1d\n    befor: 2d\n    template: thanks.j2\n"
        "  - name: a\n    after: 3 dayz\n    template: nope.j2\n",
        encoding="utf-8",
    )
    messages = [p.split(": ", 1)[1] for p in problems_of(rule)]
    assert messages == [
        "'priorty' is not a key of a cadence; did you mean 'priority'?",
        f"holdout: '200%' is more than 100% {PERCENT}",
        "'aftr' is not a key of a step; did you mean 'after'?",
        "'befor' is not a key of a step (allowed: after, allow_mentions, expires, fallback, "
        "name, template, unless, variants, when)",
        "steps[1].name: 'a' is already the name of steps[0] "
        "(step names must be unique in a cadence)",
        f"steps[1].after: '3 dayz' is not a duration {DURATION}",
        "steps[1].template: template 'nope.j2' not found in "
        "tests/fixtures/rules/_templates/ (add tests/fixtures/rules/_templates/nope.j2)",
    ]


def test_environment_variables_are_never_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.strategy import load_strategy

    monkeypatch.setenv("RAPPORT_SECRET", "leaked")
    rule = tmp_path / "env.yaml"
    rule.write_text(
        "version: 1\ncadence: env\ndescription: $RAPPORT_SECRET ${RAPPORT_SECRET}\n"
        "trigger:\n  event: purchase\nsteps:\n  - name: a\n    template: thanks.j2\n",
        encoding="utf-8",
    )
    strategy = load_strategy(tmp_path, templates_dir=TEMPLATES)
    assert strategy.cadences[0].description == "$RAPPORT_SECRET ${RAPPORT_SECRET}"


def test_prospects_may_be_answered_on_x_when_they_summon_the_brand(tmp_path: Path) -> None:
    rule = tmp_path / "answer-prospects.yaml"
    rule.write_text(
        "version: 1\ncadence: answer-prospects\naudience: prospects\nchannel: x\n"
        "trigger:\n  event: mention\nsteps:\n  - name: reply\n    template: thanks.j2\n",
        encoding="utf-8",
    )
    strategy, problems = validate_files(tmp_path, templates_dir=TEMPLATES, paths=[rule])
    assert problems == [] and strategy is not None
