"""Crash-freedom: whatever a marketer's editor saves, validate answers with positioned
problems (or a strategy), never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import Problem
from engine.strategy import validate_files

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "rules").glob("*.yaml"))
KEYS = [
    "version", "cadence", "description", "audience", "priority", "channel", "trigger",
    "event", "where", "when", "date", "reentry", "exit_on", "holdout", "cap", "max", "per",
    "starts", "steps", "name", "after", "expires", "template", "variants", "fallback",
    "unless", "allow_mentions", "aftr", "a", "b",
]  # fmt: skip
WORDS = [
    "1", "x", "review", "mention", "purchase", "customers", "prospects", "never", "always",
    "10%", "150%", "2d", "0d", "3 dayz", "thanks.j2", "../x.j2", "customer.birthday",
    "count(purchase) >= 2", "event.amount > (", "days_since(purchase", "sum(a.b, 3d) >= 1",
    "2026-03-01", "nope", "", "é", "\t", "\n",
]  # fmt: skip
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str) -> list[Problem]:
    with tempfile.TemporaryDirectory() as folder:
        rule = Path(folder) / "rule.yaml"
        rule.write_text(text, encoding="utf-8", errors="surrogatepass")
        strategy, problems = validate_files(Path(folder), templates_dir=ROOT / "templates")
    for problem in problems:
        assert problem.line >= 1 and problem.col >= 1, problem
        assert problem.message
    assert (strategy is None) == bool(problems)
    return problems


def _texts() -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_categories=["Cs"]), max_size=300)


@SLOW
@given(_texts())
def test_arbitrary_text_never_crashes(text: str) -> None:
    _check(text)


scalars = st.one_of(
    st.sampled_from(WORDS),
    st.integers(-5, 200),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.integers(0, 3)), inner, max_size=6),
    ),
    max_leaves=30,
)


@SLOW
@given(st.dictionaries(st.sampled_from(KEYS), documents, max_size=10))
def test_arbitrary_yaml_documents_never_crash(document: dict[str, Any]) -> None:
    _check(yaml.safe_dump(document, allow_unicode=True))


@SLOW
@given(
    st.sampled_from(SAMPLES),
    st.data(),
)
def test_edited_sample_rules_never_crash(sample: Path, data: st.DataObject) -> None:
    """The sample rules with a random edit: a line dropped, repeated, or text typed in."""
    lines = sample.read_text(encoding="utf-8").splitlines(keepends=True)
    at = data.draw(st.integers(0, len(lines) - 1))
    edit = data.draw(st.sampled_from(["drop", "repeat", "type"]))
    if edit == "drop":
        del lines[at]
    elif edit == "repeat":
        lines.insert(at, lines[at])
    else:
        column = data.draw(st.integers(0, len(lines[at])))
        typed = data.draw(st.one_of(st.sampled_from(WORDS), st.text(max_size=5)))
        lines[at] = lines[at][:column] + typed + lines[at][column:]
    _check("".join(lines))


def test_the_samples_themselves_are_valid() -> None:
    assert _check(SAMPLES[0].read_text(encoding="utf-8")) == []
