"""A Strategy as plain, stable JSON: for golden files and for reading what was compiled.

Durations are written back in the rule language (2w, 3d), shares as percentages, and
conditions as their text, so a golden-file diff reads like a rule change.
"""

from __future__ import annotations

from typing import Any

from engine.durations import format_duration
from engine.percent import format_percent
from engine.strategy.model import (
    Cadence,
    ConditionTrigger,
    DateTrigger,
    EventTrigger,
    Step,
    Strategy,
    Trigger,
)


def strategy_data(strategy: Strategy, *, with_hash: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"cadences": [cadence_data(c) for c in strategy.cadences]}
    if with_hash:
        data["version_hash"] = strategy.version_hash
    data["conditions"] = sorted(strategy.conditions())
    return data


def cadence_data(cadence: Cadence) -> dict[str, Any]:
    return {
        "name": cadence.name,
        "description": cadence.description,
        "audience": cadence.audience,
        "priority": cadence.priority,
        "channel": cadence.channel.value,
        "trigger": _trigger(cadence.trigger),
        "reentry": cadence.reentry.kind
        if cadence.reentry.after is None
        else format_duration(cadence.reentry.after),
        "exit_on": list(cadence.exit_on),
        "holdout": format_percent(cadence.holdout),
        "cap": None
        if cadence.cap is None
        else {"max": cadence.cap.max, "per": format_duration(cadence.cap.per)},
        "starts": None if cadence.starts is None else cadence.starts.isoformat(),
        "source": f"{cadence.source.file}:{cadence.source.line}:{cadence.source.col}",
        "steps": [_step(step) for step in cadence.steps],
    }


def _trigger(trigger: Trigger) -> dict[str, Any]:
    if isinstance(trigger, EventTrigger):
        return {"event": trigger.event, "where": trigger.where.text if trigger.where else None}
    if isinstance(trigger, ConditionTrigger):
        return {"when": trigger.when.text}
    assert isinstance(trigger, DateTrigger)
    return {"date": f"customer.{trigger.attribute}"}


def _step(step: Step) -> dict[str, Any]:
    return {
        "name": step.name,
        "after": format_duration(step.after),
        "expires": None if step.expires is None else format_duration(step.expires),
        "templates": [{"variant": v, "template": t} for v, t in step.templates],
        "fallback": step.fallback,
        "when": step.when.text if step.when else None,
        "unless": step.unless,
        "allow_mentions": step.allow_mentions,
        "line": step.source.line,
    }
