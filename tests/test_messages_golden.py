"""Golden rendered messages: the sample cadences (rules/*.yaml) over the sample customers.

Each file in tests/golden/messages/ holds, per step and customer, the text compose_message
produces (or its refusal). Regenerate after an intended change to templates or samples:

    RAPPORT_REGEN_GOLDEN=1 .venv/bin/pytest tests/test_messages_golden.py

then review the diff like code.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.messages import (
    MessageContext,
    MessageRefusal,
    StepTemplates,
    TemplateLibrary,
    compose_message,
    sample_customers,
    sample_event,
    sample_history,
)

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden" / "messages"
NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
BRAND = {"handle": "acme", "keywords": ["acme"], "competitors": ["globex"]}
REGEN = os.environ.get("RAPPORT_REGEN_GOLDEN") == "1"


def _step(cadence: str, name: str, *templates: str, fallback: str | None = None) -> StepTemplates:
    return StepTemplates(cadence, name, templates, fallback, False, f"rules/{cadence}.yaml", 0)


# The steps of rules/*.yaml (test_sample_cadences_match_the_rules keeps them in step),
# with the event type that triggers each cadence (None: a condition trigger).
CADENCES: dict[str, tuple[str | None, list[StepTemplates]]] = {
    "thank-first-purchase": (
        "purchase",
        [
            _step("thank-first-purchase", "thanks", "thanks.j2", fallback="thanks_short.j2"),
            _step("thank-first-purchase", "check-in", "check_in.j2"),
            _step("thank-first-purchase", "give-back", "gift_a.j2", "gift_b.j2"),
        ],
    ),
    "mention-reply": ("mention", [_step("mention-reply", "reply", "mention_reply.j2")]),
    "win-back": (None, [_step("win-back", "winback", "winback.j2")]),
}


def trigger_event(event_type: str | None) -> dict[str, Any] | None:
    if event_type is None:
        return None
    event = sample_event(event_type)
    if event_type == "mention":
        event["properties"] = {"post_id": "1893745893745893745", "text": "@acme is it vegan?"}
    return event


def render_cadence(name: str) -> str:
    library = TemplateLibrary(ROOT / "templates")
    event_type, steps = CADENCES[name]
    lines = [f"# {name} (generated; see tests/test_messages_golden.py to regenerate)"]
    for spec in steps:
        for template in spec.templates:
            lines.append(f"\n## {spec.step} — {template}")
            for customer in sample_customers():
                context = MessageContext.build(
                    customer=customer,
                    event=trigger_event(event_type),
                    cadence=name,
                    step=spec.step,
                    brand=BRAND,
                    history=sample_history(),
                    now_utc=NOW,
                )
                result = compose_message(
                    library,
                    templates=(template,),
                    fallback=spec.fallback,
                    context=context,
                    handle=customer["handle"],
                    allow_mentions=spec.allow_mentions,
                )
                lines.append(f"\n### @{customer['handle']} ({customer['name']})")
                if isinstance(result, MessageRefusal):
                    lines.append(f"refused: {result.reason}: {result.detail}")
                else:
                    lines.append(f"{result.template}, weighted length {result.weighted_length}")
                    lines.append(result.text)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", sorted(CADENCES))
def test_golden_messages(name: str) -> None:
    path = GOLDEN / f"{name}.txt"
    actual = render_cadence(name)
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with RAPPORT_REGEN_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def test_sample_cadences_match_the_rules() -> None:
    loader = pytest.importorskip("engine.strategy.loader")
    strategy = loader.load_strategy(ROOT / "rules", templates_dir=ROOT / "templates")
    found = {
        cadence.name: (
            getattr(cadence.trigger, "event", None),
            [
                (s.step, s.templates, s.fallback)
                for s in (StepTemplates.from_step(cadence.name, step) for step in cadence.steps)
            ],
        )
        for cadence in strategy.cadences
    }
    expected = {
        name: (event_type, [(s.step, s.templates, s.fallback) for s in steps])
        for name, (event_type, steps) in CADENCES.items()
    }
    assert found == expected
