"""Conditions inside rule files: parsed, checked, and their errors placed in the file.

The condition language reports a character offset inside the condition text; the
marketer needs the file's line and column, wherever YAML put the text (plain, quoted,
or a block scalar spread over lines). yamlpos maps one to the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.conditions import ConditionError, check_condition, parse_condition
from engine.errors import Problem
from engine.schema_check import dotted
from engine.strategy.model import Condition, Source
from engine.yamlpos import Document, Path


def condition_texts(data: dict[str, Any]) -> Iterator[tuple[Path, str, bool]]:
    """(path, text, event.* allowed) for every condition written in a cadence file."""
    trigger = data.get("trigger")
    event_trigger = isinstance(trigger, dict) and "event" in trigger
    if isinstance(trigger, dict):
        # `where` without `event` is reported by the checks; its text is still checked.
        if isinstance(trigger.get("where"), str):
            yield ("trigger", "where"), trigger["where"], True
        if isinstance(trigger.get("when"), str):
            yield ("trigger", "when"), trigger["when"], False
    steps = data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict) and isinstance(step.get("when"), str):
            yield ("steps", i, "when"), step["when"], event_trigger


def compile_conditions(doc: Document) -> tuple[dict[Path, Condition], list[Problem]]:
    """Every condition of the file parsed, or a positioned problem for each error in it."""
    compiled: dict[Path, Condition] = {}
    problems: list[Problem] = []
    data = doc.data if isinstance(doc.data, dict) else {}
    for path, text, event_allowed in condition_texts(data):
        try:
            expr = parse_condition(text)
        except ConditionError as error:
            problems.append(_problem(doc, path, error))
            continue
        errors = check_condition(expr, event_allowed=event_allowed)
        problems += [_problem(doc, path, error) for error in errors]
        if not errors:
            mark = doc.positions.of(path)
            compiled[path] = Condition(text, expr, Source(doc.file, mark.line, mark.col))
    return compiled, problems


def _problem(doc: Document, path: Path, error: ConditionError) -> Problem:
    return doc.problem_in(path, error.offset, f"{dotted(path)}: {error.reason}")
