"""Errors inside conditions point at the column inside the condition, mapped to the file.

Each fixture has one mistake; MARKERS names the text the error must point at (its first
character), whatever YAML style holds the condition (plain, quoted, folded, literal).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.strategy import validate_files

FIXTURES = Path(__file__).parent / "fixtures" / "rules" / "conditions"
TEMPLATES = FIXTURES.parent / "_templates"

# fixture -> (where, text the error points at, what the message says)
MARKERS: dict[str, tuple[str, str, str]] = {
    "unknown_function": ("steps[0].when", "cnt(", "cnt"),
    "bad_arity": ("steps[0].when", "days_since(", "days_since"),
    "unbalanced": ("trigger.where", "(event.amount", ")"),
    "event_in_when_trigger": ("trigger.when", "event.amount", "event"),
    "event_in_step_of_when_cadence": ("steps[0].when", "event.amount", "event"),
    "folded_block": ("trigger.where", "nope(", "nope"),
    "literal_block": ("steps[0].when", "bogus(", "bogus"),
    "double_quoted": ("steps[0].when", "bogus(", "bogus"),
    "single_quoted": ("steps[0].when", "bogus(", "bogus"),
}


def _where_is(path: Path, marker: str) -> tuple[int, int]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if marker in line:
            return number, line.index(marker) + 1
    raise AssertionError(f"{marker!r} not in {path}")


@pytest.mark.parametrize("kind", sorted(MARKERS))
def test_condition_errors_point_inside_the_condition(kind: str) -> None:
    path = FIXTURES / f"{kind}.yaml"
    where, marker, word = MARKERS[kind]
    strategy, problems = validate_files(FIXTURES, templates_dir=TEMPLATES, paths=[path])
    assert strategy is None and len(problems) == 1, problems
    problem = problems[0]
    assert problem.message.startswith(f"{where}: ")
    assert word in problem.message
    line, col = _where_is(path, marker)
    if kind == "unbalanced":  # at the open parenthesis, or at the end of the text
        end = len(path.read_text(encoding="utf-8").splitlines()[line - 1]) + 1
        assert (problem.line, problem.col) in ((line, col), (line, end)), problem
    else:
        assert (problem.line, problem.col) == (line, col), problem


def test_every_condition_fixture_is_covered() -> None:
    assert {p.stem for p in FIXTURES.glob("*.yaml")} == set(MARKERS)
