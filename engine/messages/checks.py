"""Validate-time renders: each step's templates against sample customers.

A template that fits for "Jane Doe" can be 40 characters over for a customer with a long
or CJK name (CJK characters weigh 2). Rendering every step for a set of awkward customers
finds that before a send does, and names the customer that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from engine.errors import Problem
from engine.messages.compose import MessageRefusal, Rendered, check_mentions
from engine.messages.context import MessageContext
from engine.messages.length import MAX_WEIGHTED_LENGTH, weighted_length
from engine.messages.library import TemplateError, TemplateLibrary
from engine.messages.samples import sample_event, sample_history

SAMPLE_NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class StepTemplates:
    """One step's templates as the rules wrote them, with the place to point at."""

    cadence: str
    step: str
    templates: tuple[str, ...]
    fallback: str | None
    allow_mentions: bool
    source_file: str
    line: int

    @classmethod
    def from_step(cls, cadence: str, step: Any) -> StepTemplates:
        """From a compiled strategy Step (name, templates, fallback, allow_mentions, source)."""
        return cls(
            cadence=cadence,
            step=step.name,
            templates=tuple(template for _, template in step.templates),
            fallback=step.fallback,
            allow_mentions=step.allow_mentions,
            source_file=step.source.file,
            line=step.source.line,
        )


@dataclass(frozen=True)
class LengthReport:
    problems: list[Problem]
    # (cadence, step) → longest weighted length of any variant for any sample (before fallback)
    longest: dict[tuple[str, str], int] = field(default_factory=dict)
    # (cadence, step) → the sample customer that gave it, as "@handle (Name)"
    longest_by: dict[tuple[str, str], str] = field(default_factory=dict)


def who(context: MessageContext) -> str:
    customer = context.customer
    name = customer.get("name")
    return f"@{customer.get('handle')}" + (f" ({name})" if name else "")


def _contexts(
    samples: Sequence[MessageContext | Mapping[str, Any]], brand: Mapping[str, Any]
) -> list[MessageContext]:
    contexts = []
    for sample in samples:
        if isinstance(sample, MessageContext):
            contexts.append(sample)
            continue
        contexts.append(
            MessageContext.build(
                customer=sample,
                event=sample_event(),
                cadence="",
                step="",
                brand=brand,
                history=sample_history(),
                now_utc=SAMPLE_NOW,
            )
        )
    return contexts


def check_step_lengths(
    library: TemplateLibrary,
    steps: Iterable[StepTemplates],
    samples: Sequence[MessageContext | Mapping[str, Any]],
    brand: Mapping[str, Any],
) -> LengthReport:
    """Render every step × template × sample; report over-limit texts, render errors and
    mention problems with the customer that causes them. Steps with a missing or broken
    template are skipped: the strategy loader and `TemplateLibrary.check` report those."""
    contexts = _contexts(samples, brand)
    report = LengthReport(problems=[])
    for step in steps:
        _check_step(library, step, contexts, report)
    report.problems.sort()
    return report


def _check_step(
    library: TemplateLibrary,
    step: StepTemplates,
    contexts: list[MessageContext],
    report: LengthReport,
) -> None:
    key = (step.cadence, step.step)
    at = f"{step.source_file}:{step.line}"
    names = [*step.templates, *([step.fallback] if step.fallback else [])]
    # a missing template is the rule files' problem (the strategy loader reports it with a
    # suggestion); a broken one is TemplateLibrary.check's. Either way: nothing to render.
    if any(not library.exists(name) or library.check(name) for name in names):
        return
    for template in step.templates:
        for context in contexts:
            local = replace(context, cadence=step.cadence, step=step.step)
            problem = _check_one(library, step, template, local, at, report, key)
            if problem is not None:
                report.problems.append(problem)
                break  # one problem per template and step is enough to act on


def _check_one(
    library: TemplateLibrary,
    step: StepTemplates,
    template: str,
    context: MessageContext,
    at: str,
    report: LengthReport,
    key: tuple[str, str],
) -> Problem | None:
    try:
        text = library.render(template, context)
    except TemplateError as err:
        return Problem(
            err.problem.file,
            err.line,
            0,
            f"{err.reason} (sample customer {who(context)}, step {step.step!r} at {at})",
        )
    length = weighted_length(text)
    if length > report.longest.get(key, -1):
        report.longest[key] = length
        report.longest_by[key] = who(context)
    chosen = template
    if length > MAX_WEIGHTED_LENGTH:
        if step.fallback is None:
            return _over(step, template, length, context, None)
        try:
            text = library.render(step.fallback, context)
        except TemplateError as err:
            return Problem(
                err.problem.file, err.line, 0, f"{err.reason} (sample customer {who(context)})"
            )
        chosen = step.fallback
        fallback_length = weighted_length(text)
        if fallback_length > MAX_WEIGHTED_LENGTH:
            return _over(step, template, length, context, (step.fallback, fallback_length))
        length = fallback_length
    verdict = check_mentions(Rendered(text, length, chosen), _handle(context), step.allow_mentions)
    if isinstance(verdict, MessageRefusal):
        return Problem(
            f"{library.label}/{chosen}", 0, 0, f"{verdict.detail} (sample customer {who(context)})"
        )
    return None


def _handle(context: MessageContext) -> str:
    return str(context.customer.get("handle") or "")


def _over(
    step: StepTemplates,
    template: str,
    length: int,
    context: MessageContext,
    fallback: tuple[str, int] | None,
) -> Problem:
    message = (
        f"step {step.step!r}: {template} renders {length} weighted characters"
        f" (over {MAX_WEIGHTED_LENGTH}) for sample customer {who(context)}"
    )
    if fallback is None:
        message += "; shorten it or add a fallback: template"
    else:
        message += f", and its fallback {fallback[0]} renders {fallback[1]}; shorten them"
    return Problem(step.source_file, step.line, 0, message)
