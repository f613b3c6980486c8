"""A checked cadence file -> a frozen Cadence. Runs only on files without problems.

Defaults live here: audience customers, priority 50, channel review, reentry never (once
a year for a date trigger),
no holdout, no cap, step `after` 0.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.clock import parse_time
from engine.durations import parse_duration
from engine.ledger.states import Channel
from engine.percent import parse_percent
from engine.strategy.model import (
    Cadence,
    Cap,
    Condition,
    ConditionTrigger,
    DateTrigger,
    EventTrigger,
    Reentry,
    Source,
    Step,
    Trigger,
)
from engine.yamlpos import Document, Path

DEFAULT_PRIORITY = 50


def compile_cadence(doc: Document, conditions: dict[Path, Condition]) -> Cadence:
    data: dict[str, Any] = doc.data
    mark = doc.positions.of(("cadence",))
    return Cadence(
        name=data["cadence"],
        description=data.get("description", "").strip(),
        audience=data.get("audience", "customers"),
        priority=int(data.get("priority", DEFAULT_PRIORITY)),
        channel=Channel(data.get("channel", Channel.REVIEW)),
        trigger=_trigger(data["trigger"], conditions),
        reentry=_reentry(data.get("reentry", _default_reentry(data["trigger"]))),
        exit_on=tuple(data.get("exit_on", ())),
        holdout=parse_percent(data["holdout"]) if "holdout" in data else 0.0,
        cap=Cap(data["cap"]["max"], parse_duration(data["cap"]["per"])) if "cap" in data else None,
        steps=tuple(_step(doc, i, step, conditions) for i, step in enumerate(data["steps"])),
        starts=parse_time(data["starts"]) if "starts" in data else None,
        source=Source(doc.file, mark.line, mark.col),
    )


def _trigger(data: dict[str, Any], conditions: dict[Path, Condition]) -> Trigger:
    if "event" in data:
        return EventTrigger(data["event"], conditions.get(("trigger", "where")))
    if "when" in data:
        return ConditionTrigger(conditions[("trigger", "when")])
    return DateTrigger(data["date"].removeprefix("customer."))


def _default_reentry(trigger: dict[str, Any]) -> str:
    """A date comes back every year: a date trigger enrols once per occurrence."""
    return "yearly" if "date" in trigger and "event" not in trigger else "never"


def _reentry(text: str) -> Reentry:
    if text == "yearly":
        return Reentry("yearly")
    if text == "never":
        return Reentry("never")
    if text == "always":
        return Reentry("always")
    return Reentry("after", parse_duration(text))


def _step(doc: Document, i: int, data: dict[str, Any], conditions: dict[Path, Condition]) -> Step:
    if "variants" in data:
        templates = tuple((str(name), file) for name, file in data["variants"].items())
    else:
        templates = (("", data["template"]),)
    mark = doc.positions.of(("steps", i))
    return Step(
        name=data["name"],
        after=parse_duration(data["after"]) if "after" in data else timedelta(0),
        expires=parse_duration(data["expires"]) if "expires" in data else None,
        templates=templates,
        fallback=data.get("fallback"),
        when=conditions.get(("steps", i, "when")),
        unless=data.get("unless"),
        allow_mentions=bool(data.get("allow_mentions", False)),
        source=Source(doc.file, mark.line, mark.col),
    )
