"""Warnings for names that no data has: event types and customer attributes (likely typos).

`event: purchse`, `count(purchases)`, `exit_on: [complain]`, `unless: replied` and
`customer.teir` are all valid rule language: they simply never match anything. Rapport
cannot know every event type a project will import, so these are warnings, not errors:
printed as `FILE:LINE:COL: warning: …`, they never change `validate`'s exit code.

A name is known when the database has it, or (event types) when Rapport itself produces
it (`PRODUCT_EVENT_TYPES`) or (customers) it is a customer field. An unknown name gets a
warning when a known one is close to it (did you mean …?), or when the database has data
to compare with; with an empty database and nothing close, it passes silently.
Templates get the same checks from engine/project.py, with `attribute_warning(...,
close_only=True)`: a template reading an attribute that some customers lack is normal.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.conditions import Aggregate, ConditionError, Name, parse_condition
from engine.conditions.ast import walk
from engine.errors import Problem
from engine.schema_check import dotted
from engine.strategy.condition_text import condition_texts
from engine.strategy.xrules import ENGAGED_FIRST_EVENT_TYPES
from engine.yamlpos import Document, Path

# Event types Rapport itself writes: X ingestion (mention, quote, reply, keyword), an
# opt-out word or a complaint (engine/policy/opt_out.py, engine/evaluation/signals.py),
# and the demo history (engine/demo_data.py). tests/test_project.py keeps them in step.
PRODUCT_EVENT_TYPES: frozenset[str] = frozenset(
    {
        *ENGAGED_FIRST_EVENT_TYPES,
        "keyword",
        "opt_out",
        "complaint",
        "purchase",
    }
)
# `customer.<name>` that every customer has, attributes aside (engine/evaluation/facts.py)
CUSTOMER_FIELDS: frozenset[str] = frozenset(
    {"id", "handle", "name", "timezone", "kind", "consent_at"}
)
_LISTED = 8  # types named in a warning when nothing is close


@dataclass(frozen=True)
class Vocabulary:
    """The names the database knows (empty without a database)."""

    event_types: frozenset[str] = field(default_factory=frozenset)
    attributes: frozenset[str] = field(default_factory=frozenset)
    has_customers: bool = False


def vocabulary_warnings(doc: Document, vocabulary: Vocabulary) -> list[Problem]:
    """A warning for each event type or customer attribute of the file that is unknown."""
    data = doc.data if isinstance(doc.data, dict) else {}
    problems = []
    for path, offset, kind, value in _names(data):
        if kind == "event":
            message = event_type_warning(value, vocabulary)
        else:
            message = attribute_warning(value, vocabulary)
        if message is None:
            continue
        where = dotted(path)
        problem = doc.problem_in(path, offset, f"{where}: {message}")
        problems.append(
            Problem(problem.file, problem.line, problem.col, problem.message, "warning")
        )
    return problems


def _names(data: dict[str, Any]) -> Iterator[tuple[Path, int, str, str]]:
    """(path, offset in the text, "event" | "attribute", name) for every name written."""
    trigger: dict[str, Any] = data["trigger"] if isinstance(data.get("trigger"), dict) else {}
    if isinstance(trigger.get("event"), str):
        yield ("trigger", "event"), 0, "event", trigger["event"]
    date = trigger.get("date")
    if isinstance(date, str) and date.startswith("customer."):
        yield ("trigger", "date"), len("customer."), "attribute", date.removeprefix("customer.")
    exit_on = data.get("exit_on")
    for i, kind in enumerate(exit_on if isinstance(exit_on, list) else []):
        if isinstance(kind, str):
            yield ("exit_on", i), 0, "event", kind
    steps = data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict) and isinstance(step.get("unless"), str):
            yield ("steps", i, "unless"), 0, "event", step["unless"]
    for path, text, _ in condition_texts(data):
        try:
            expr = parse_condition(text)
        except ConditionError:
            continue  # reported as an error by the condition checks
        for node in walk(expr):
            if isinstance(node, Aggregate):  # point at the type, not at the function
                at = text.find(node.event_type, node.offset)
                yield path, at if at >= 0 else node.offset, "event", node.event_type
            elif isinstance(node, Name) and node.scope == "customer":
                yield path, node.offset, "attribute", node.field


def event_type_warning(event_type: str, vocabulary: Vocabulary) -> str | None:
    """The warning for one event type, or None when it is known (or nothing says otherwise)."""
    close = _close(event_type, vocabulary.event_types | PRODUCT_EVENT_TYPES)
    if close == "":
        return None
    if close:
        return f"unknown event type {event_type!r}; did you mean {close!r}?"
    if vocabulary.event_types:
        listed = sorted(vocabulary.event_types)
        more = ", …" if len(listed) > _LISTED else ""
        return (
            f"no {event_type!r} events in the database"
            f" (types there: {', '.join(listed[:_LISTED])}{more})"
        )
    return None


def attribute_warning(name: str, vocabulary: Vocabulary, *, close_only: bool = False) -> str | None:
    """The warning for `customer.<name>`, or None when some customer has it. `close_only`:
    only when a known name is close (templates read optional attributes with |default)."""
    close = _close(name, vocabulary.attributes | CUSTOMER_FIELDS)
    if close == "":
        return None
    if close:
        return f"no customer has the attribute 'customer.{name}'; did you mean 'customer.{close}'?"
    if vocabulary.has_customers and not close_only:
        return (
            f"no customer has the attribute 'customer.{name}'"
            " (a missing attribute is null, and comparisons with null are false)"
        )
    return None


def _close(name: str, known: frozenset[str]) -> str | None:
    """ "" when `name` is known, else the closest known name, or None when none is close."""
    if name in known:
        return ""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return close[0] if close else None
