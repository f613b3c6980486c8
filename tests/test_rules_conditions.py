"""Errors inside conditions point at the column inside the condition, mapped to the file.

Each fixture has one mistake; MARKERS names the text the error must point at (its first
character), whatever YAML style holds the condition (plain, quoted, folded, literal).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import Problem
from engine.strategy import validate_files

FIXTURES = Path(__file__).parent / "fixtures" / "rules" / "conditions"
TEMPLATES = FIXTURES.parent / "_templates"

FUNCTIONS = "(functions are count, sum, days_since, last)"
NO_EVENT = "needs a trigger event and this condition has none (use a history function, e.g. last(TYPE.PROP))"  # noqa: E501

# fixture -> (the text the error points at, the exact message)
MARKERS: dict[str, tuple[str, str]] = {
    "unknown_function": (
        "cnt(",
        f"steps[0].when: unknown function 'cnt'; did you mean 'count'? {FUNCTIONS}",
    ),
    "bad_arity": ("days_since(", "steps[0].when: days_since() takes 1 argument (TYPE), got 2"),
    "unbalanced": (
        "(event.amount",
        "trigger.where: unbalanced parenthesis: '(' is never closed",
    ),
    "event_in_when_trigger": ("event.amount", f"trigger.when: event.amount {NO_EVENT}"),
    "event_in_step_of_when_cadence": ("event.amount", f"steps[0].when: event.amount {NO_EVENT}"),
    "folded_block": ("nope(", f"trigger.where: unknown function 'nope' {FUNCTIONS}"),
    "literal_block": ("bogus(", f"steps[0].when: unknown function 'bogus' {FUNCTIONS}"),
    "double_quoted": ("bogus(", f"steps[0].when: unknown function 'bogus' {FUNCTIONS}"),
    "unquoted_text": (
        "gold",
        "steps[0].when: unknown name 'gold' (names are customer.<field> or event.<property>);"
        ' put text in quotes: "gold"',
    ),
    "window_too_long": (
        "3000000w",
        "trigger.when: count() window '3000000w' is too long (use at most 3650d)",
    ),
    "single_quoted": ("bogus(", f"steps[0].when: unknown function 'bogus' {FUNCTIONS}"),
}


def _where_is(path: Path, marker: str) -> tuple[int, int]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if marker in line:
            return number, line.index(marker) + 1
    raise AssertionError(f"{marker!r} not in {path}")


@pytest.mark.parametrize("kind", sorted(MARKERS))
def test_condition_errors_point_inside_the_condition(kind: str) -> None:
    path = FIXTURES / f"{kind}.yaml"
    marker, message = MARKERS[kind]
    strategy, problems = validate_files(FIXTURES, templates_dir=TEMPLATES, paths=[path])
    assert strategy is None
    line, col = _where_is(path, marker)
    assert [(p.line, p.col, p.message) for p in problems] == [(line, col, message)]


def test_every_condition_fixture_is_covered() -> None:
    assert {p.stem for p in FIXTURES.glob("*.yaml")} == set(MARKERS)


ESCAPES = ['\\"a\\"', "\\u00e9", "\\t", "\\x41", "\\U0001F600", "\\\\\\\\", "\\/", "\\N"]


@pytest.mark.parametrize("escape", ESCAPES)
def test_columns_count_escapes_in_double_quoted_conditions(tmp_path: Path, escape: str) -> None:
    where = f'  where: "event.k == \\"{escape}\\" and event.z = 1"\n'
    problems = _validate(tmp_path, where)
    col = where.index("= 1") + 1
    assert [(p.line, p.col) for p in problems] == [(5, col)]
    assert problems[0].message.startswith("trigger.where: unexpected character '='")


@pytest.mark.parametrize("where", ["  where: 'event.k == ''it''''s'' and event.z = 1'\n"])
def test_columns_count_doubled_single_quotes(tmp_path: Path, where: str) -> None:
    problems = _validate(tmp_path, where)
    assert [(p.line, p.col) for p in problems] == [(5, where.index("= 1") + 1)]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85"])
def test_lines_are_counted_as_yaml_counts_them(tmp_path: Path, newline: str) -> None:
    """A folded double-quoted condition after a comment, with each kind of line break."""
    lines = ["version: 1", "# a comment", "cadence: breaks", "trigger:", "  event: purchase"]
    lines += ['  where: "event.k == \\"\\t\\" and', '    event.z = 1"', "steps:"]
    lines += ["  - name: s", "    template: thanks.j2", ""]
    path = tmp_path / "breaks.yaml"
    path.write_bytes(newline.join(lines).encode("utf-8"))
    _, problems = validate_files(tmp_path, templates_dir=TEMPLATES, paths=[path])
    assert [(p.line, p.col) for p in problems] == [(7, 13)]


def _validate(tmp_path: Path, where: str) -> list[Problem]:
    path = tmp_path / "escapes.yaml"
    path.write_text(
        "version: 1\ncadence: escapes\ntrigger:\n  event: purchase\n"
        f"{where}steps:\n  - name: s\n    template: thanks.j2\n",
        encoding="utf-8",
    )
    strategy, problems = validate_files(tmp_path, templates_dir=TEMPLATES, paths=[path])
    assert strategy is None
    return problems
