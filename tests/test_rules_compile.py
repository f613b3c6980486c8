"""The compiled Strategy: frozen objects, defaults, order, version hash, named conditions."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.strategy import ENGAGED_FIRST_EVENT_TYPES, load_strategy, validate_files
from engine.strategy.model import ConditionTrigger, DateTrigger, EventTrigger, Reentry

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "tests" / "fixtures" / "rules" / "_templates"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = "version: 1\ncadence: {name}\ntrigger:\n  event: purchase\nsteps:\n  - name: a\n    template: thanks.j2\n"  # noqa: E501


def test_sample_rules_compile_in_priority_order() -> None:
    strategy = load_strategy(ROOT / "rules", templates_dir=ROOT / "templates")
    assert [(c.name, c.priority) for c in strategy.cadences] == [
        ("mention-reply", 90),
        ("thank-first-purchase", 60),
        ("win-back", 40),
    ]
    thank = strategy.cadence("thank-first-purchase")
    assert thank.holdout == pytest.approx(0.1)
    assert thank.exit_on == ("complaint", "opt_out")
    assert [s.after for s in thank.steps] == [timedelta(days=2), timedelta(days=14), timedelta(30)]
    assert thank.steps[2].templates == (("a", "gift_a.j2"), ("b", "gift_b.j2"))
    assert thank.steps[2].variants == ("a", "b")
    assert thank.steps[0].templates == (("", "thanks.j2"),)
    assert thank.steps[1].unless == "reply"
    assert isinstance(thank.trigger, EventTrigger) and thank.trigger.where is not None
    assert strategy.cadence("win-back").reentry == Reentry("after", timedelta(days=180))
    assert isinstance(strategy.cadence("win-back").trigger, ConditionTrigger)
    assert strategy.cadence("mention-reply").channel == "x"


def test_named_conditions_for_the_matcher() -> None:
    strategy = load_strategy(ROOT / "rules", templates_dir=ROOT / "templates")
    assert sorted(strategy.conditions()) == [
        "thank-first-purchase/give-back/when",
        "thank-first-purchase/trigger",
        "win-back/trigger",
    ]
    assert strategy.templates() == (
        "check_in.j2", "gift_a.j2", "gift_b.j2", "mention_reply.j2", "thanks.j2",
        "thanks_short.j2", "winback.j2",
    )  # fmt: skip


def test_compiled_objects_are_frozen() -> None:
    strategy = load_strategy(ROOT / "rules")
    with pytest.raises(dataclasses.FrozenInstanceError):
        strategy.cadences[0].priority = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        strategy.cadences[0].steps[0].name = "x"  # type: ignore[misc]


def test_defaults_of_an_optional_key_free_cadence(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", MINIMAL.format(name="plain"))
    cadence = load_strategy(tmp_path, templates_dir=TEMPLATES).cadence("plain")
    assert (cadence.audience, cadence.priority, cadence.channel) == ("customers", 50, "review")
    assert (cadence.reentry, cadence.holdout, cadence.cap, cadence.starts) == (
        Reentry("never"), 0.0, None, None,
    )  # fmt: skip
    step = cadence.steps[0]
    assert (step.after, step.expires, step.when, step.fallback, step.allow_mentions) == (
        timedelta(0), None, None, None, False,
    )  # fmt: skip
    assert (step.source.line, cadence.source.line) == (6, 2)


def test_date_trigger_cap_and_starts(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "birthday.yaml",
        "version: 1\ncadence: birthday\nstarts: 2026-03-01T09:30:00+01:00\n"
        "trigger:\n  date: customer.birthday\nreentry: always\ncap: {max: 1, per: 300d}\n"
        "steps:\n  - name: wish\n    expires: 1d\n    template: thanks.j2\n"
        "    allow_mentions: true\n",
    )
    cadence = load_strategy(tmp_path, templates_dir=TEMPLATES).cadence("birthday")
    assert cadence.trigger == DateTrigger("birthday")
    assert cadence.starts == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert cadence.cap is not None and cadence.cap.per == timedelta(days=300)
    assert cadence.steps[0].allow_mentions is True


def test_same_priority_is_ordered_by_name(tmp_path: Path) -> None:
    for name in ("zeta", "alpha", "mid"):
        _write(tmp_path, f"{name}.yaml", MINIMAL.format(name=name))
    strategy = load_strategy(tmp_path, templates_dir=TEMPLATES)
    assert [c.name for c in strategy.cadences] == ["alpha", "mid", "zeta"]


def test_version_hash_is_the_rules_content(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    first = load_strategy(tmp_path / "rules").version_hash
    assert load_strategy(tmp_path / "rules").version_hash == first
    rule = tmp_path / "rules" / "win-back.yaml"
    rule.write_text(rule.read_text() + "# a comment is a change too\n", encoding="utf-8")
    assert load_strategy(tmp_path / "rules").version_hash != first
    assert len(first) == 64


def test_load_strategy_raises_with_every_problem(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", MINIMAL.format(name="same").replace("purchase", "Purchase"))
    _write(tmp_path, "b.yaml", MINIMAL.format(name="same"))
    with pytest.raises(InvalidInput) as caught:
        load_strategy(tmp_path, templates_dir=TEMPLATES)
    assert [(p.file.rsplit("/", 1)[-1], p.line) for p in caught.value.problems] == [
        ("a.yaml", 4),
        ("b.yaml", 2),
    ]


def test_validate_files_never_raises_for_missing_paths(tmp_path: Path) -> None:
    strategy, problems = validate_files(tmp_path / "absent")
    assert strategy is None
    assert [p.message for p in problems] == ["no such file or folder"]


def test_an_empty_rules_folder_is_an_empty_strategy(tmp_path: Path) -> None:
    strategy, problems = validate_files(tmp_path)
    assert problems == [] and strategy is not None and strategy.cadences == ()


def test_engaged_first_event_types() -> None:
    assert ENGAGED_FIRST_EVENT_TYPES == ("mention", "quote", "reply")


def test_rule_file_suffixes_are_compared_case_insensitively(tmp_path: Path) -> None:
    """Upper.YAML and Other.YML are rule files too (a Windows editor may save them so)."""
    for name, stem in (("Upper.YAML", "upper"), ("Other.YML", "other"), ("notes.txt", "no")):
        (tmp_path / name).write_text(
            f"version: 1\ncadence: {stem}\ntrigger:\n  event: purchase\n"
            "steps:\n  - name: s\n    template: t.j2\n",
            encoding="utf-8",
        )
    strategy = load_strategy(tmp_path)
    assert sorted(c.name for c in strategy.cadences) == ["other", "upper"]
