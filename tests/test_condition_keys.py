"""The matcher's condition names come back as typed keys, never parsed from strings."""

from __future__ import annotations

from pathlib import Path

from engine.evaluation.matching import ConditionSet
from engine.strategy import load_strategy
from engine.strategy.model import ConditionKey

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "tests" / "fixtures" / "rules" / "_templates"

RULE = """version: 1
cadence: {name}
trigger:
  event: purchase
  where: event.amount > 10
steps:
  - name: a
    template: thanks.j2
    when: customer.kind == "customer"
"""


def test_a_key_names_a_trigger_or_a_step_condition() -> None:
    assert ConditionKey("welcome").name == "welcome/trigger"
    assert ConditionKey("welcome", "a").name == "welcome/a/when"
    assert ConditionKey("welcome") != ConditionKey("welcome", "a")


def test_the_condition_set_maps_matcher_names_back_to_their_cadence(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name in ("welcome", "winback_v2"):
        (rules / f"{name}.yaml").write_text(RULE.format(name=name), encoding="utf-8")
    strategy = load_strategy(rules, templates_dir=TEMPLATES)
    conditions = ConditionSet.of(strategy.cadences)
    assert dict(conditions.keys) == {
        "welcome/trigger": ConditionKey("welcome"),
        "winback_v2/trigger": ConditionKey("winback_v2"),
    }
    assert conditions.triggers == {"welcome", "winback_v2"}
    assert sorted(strategy.conditions()) == [
        "welcome/a/when",
        "welcome/trigger",
        "winback_v2/a/when",
        "winback_v2/trigger",
    ]
