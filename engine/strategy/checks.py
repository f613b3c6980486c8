"""What the JSON Schema cannot say about one cadence file: ranges, uniqueness, sanity.

Every check reads the raw data defensively (a value of the wrong type was already
reported by the schema) so that all problems of a file are found in one pass.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.clock import parse_time
from engine.durations import MAX_DURATION, MAX_DURATION_HINT, is_duration, parse_duration
from engine.errors import Problem
from engine.percent import parse_percent
from engine.schema_check import dotted
from engine.yamlpos import Document, Path


def cadence_problems(doc: Document) -> list[Problem]:
    data: dict[str, Any] = doc.data
    return [
        *_duration_problems(doc),
        *_trigger_problems(doc, data.get("trigger")),
        *_reentry_problems(doc, data),
        *_holdout_problems(doc, data.get("holdout")),
        *_starts_problems(doc, data.get("starts")),
        *_step_problems(doc, data.get("steps")),
    ]


def duration_fields(data: dict[str, Any]) -> list[tuple[Path, Any]]:
    """Every duration written in a cadence file, with its path."""
    found: list[tuple[Path, Any]] = [(("reentry",), data.get("reentry"))]
    if isinstance(data.get("cap"), dict):
        found.append((("cap", "per"), data["cap"].get("per")))
    steps = data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict):
            found += [(("steps", i, key), step.get(key)) for key in ("after", "expires")]
    return [(path, value) for path, value in found if is_duration(value)]


def _duration_problems(doc: Document) -> list[Problem]:
    problems = []
    for path, text in duration_fields(doc.data):
        where = dotted(path)
        try:
            value = parse_duration(text)
        except ValueError:  # a number too large for any duration
            value = MAX_DURATION * 2
        if value > MAX_DURATION:
            problems.append(
                doc.problem(path, f"{where}: {text!r} is too long ({MAX_DURATION_HINT})")
            )
        elif value == timedelta(0) and path[-1] in ("expires", "per", "reentry"):
            fix = "use always" if path == ("reentry",) else "use more than 0, e.g. 1h"
            problems.append(doc.problem(path, f"{where}: {text!r} is too short ({fix})"))
    return problems


def _trigger_problems(doc: Document, trigger: Any) -> list[Problem]:
    if isinstance(trigger, dict) and "where" in trigger and "event" not in trigger:
        return [
            doc.problem(
                ("trigger", "where"),
                "trigger.where: 'where' filters an event trigger; add 'event' "
                "(or use 'when' for a condition trigger)",
                at_key=True,
            )
        ]
    return []


def _reentry_problems(doc: Document, data: dict[str, Any]) -> list[Problem]:
    trigger: dict[str, Any] = data["trigger"] if isinstance(data.get("trigger"), dict) else {}
    reentry = data.get("reentry", "never")
    if "when" in trigger and "event" not in trigger and reentry == "always":
        return [
            doc.problem(
                ("reentry",),
                "reentry: 'always' with a when trigger enrols again at the first evaluation "
                "after each enrolment ends (use a duration, e.g. 180d)",
            )
        ]
    if "date" in trigger and "event" not in trigger and data.get("reentry") == "never":
        return [
            doc.problem(
                ("reentry",),
                "reentry: 'never' with a date trigger enrols only in the first year "
                "(leave reentry out: a date trigger enrols once a year)",
            )
        ]
    return []


def _holdout_problems(doc: Document, holdout: Any) -> list[Problem]:
    if not isinstance(holdout, str):
        return []
    try:
        share = parse_percent(holdout)
    except ValueError as exc:
        return [doc.problem(("holdout",), f"holdout: {exc}")]
    if share >= 1:
        return [
            doc.problem(
                ("holdout",), f"holdout: {holdout!r} would send nothing (use less than 100%)"
            )
        ]
    return []


def _starts_problems(doc: Document, starts: Any) -> list[Problem]:
    if not isinstance(starts, str):
        return []
    try:
        parse_time(starts)
    except (ValueError, OverflowError) as exc:
        return [doc.problem(("starts",), f"starts: {exc}")]
    return []


def _step_problems(doc: Document, steps: Any) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        name = step.get("name")
        if isinstance(name, str) and name in seen:
            problems.append(
                doc.problem(
                    ("steps", i, "name"),
                    f"steps[{i}].name: '{name}' is already the name of steps[{seen[name]}] "
                    "(step names must be unique in a cadence)",
                )
            )
        elif isinstance(name, str):
            seen[name] = i
    return problems


def template_fields(step: dict[str, Any]) -> list[tuple[Path, str]]:
    """(path inside the step, template name) for each template a step names."""
    found: list[tuple[Path, Any]] = [
        ((key,), step[key]) for key in ("template", "fallback") if key in step
    ]
    if isinstance(step.get("variants"), dict):
        found += [(("variants", str(k)), v) for k, v in step["variants"].items()]
    return [(path, name) for path, name in found if isinstance(name, str)]
