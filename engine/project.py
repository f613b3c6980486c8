"""One check of a whole project: config, rule files, templates and the rendered messages.

`validate_project` is the one entry point for "is this project right?": `rapport validate`
prints what it returns, and the daemon's hot reload (keep the last good strategy when a
reload has errors) and `rapport diff` are meant to call it too, so that a project is never
judged two ways. It returns every problem at once, errors and warnings (see
engine/errors.py `Problem`), and the compiled Strategy and template library when there is
no error.

It never opens a database: what the database knows (sample customers with their history,
the event types and attribute names present) comes in as `ProjectData`, read by
engine/history/project_data.py. Messages are rendered with the context a run builds
(engine/messages/context.py), with every history value the conditions and templates name
computed as a run computes it (engine/conditions/history.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import clock
from engine.conditions import Aggregate, HistoryEvent, compute_aggregates
from engine.errors import InvalidInput, Problem
from engine.history.project_data import ProjectData
from engine.messages import MessageContext, StepTemplates, TemplateLibrary, check_step_lengths
from engine.messages.checks import SAMPLE_NOW
from engine.messages.samples import sample_customers, sample_event, sample_events
from engine.strategy import validate_files
from engine.strategy.model import Strategy, condition_aggregates
from engine.strategy.vocabulary import Vocabulary, attribute_warning, event_type_warning

if TYPE_CHECKING:
    from engine.config import Settings


@dataclass(frozen=True)
class ProjectCheck:
    """Every problem of a project; the strategy and templates only when none is an error."""

    problems: tuple[Problem, ...]
    settings: Settings | None
    strategy: Strategy | None
    library: TemplateLibrary | None

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.is_error)

    @property
    def ok(self) -> bool:
        return self.strategy is not None


def validate_project(
    config_path: str | Path,
    rules_dir: Path | None = None,
    *,
    templates_dir: Path | None = None,
    paths: list[Path] | None = None,
    database: ProjectData | None = None,
    now: datetime | None = None,
) -> ProjectCheck:
    """Check the project whose settings are at `config_path`.

    `rules_dir` and `templates_dir` default to the settings' (or, when the config itself is
    wrong, to rules/ and templates/ beside it: its problems are reported with the rules',
    not instead of them). `paths` limits the rule files checked. `database`: what the
    database knows (default: nothing). `now`: the time database customers' history
    values are computed at (default: the clock).
    """
    from engine.config import load_settings

    problems: list[Problem] = []
    settings: Settings | None = None
    try:
        settings = load_settings(config_path)
        rules_dir = rules_dir or settings.rules_dir
        templates_dir = templates_dir or settings.templates_dir
    except InvalidInput as exc:
        problems += exc.problems
        beside = Path(config_path).resolve().parent
        rules_dir, templates_dir = (
            rules_dir or beside / "rules",
            templates_dir or beside / "templates",
        )
    data = database or ProjectData()
    vocabulary = Vocabulary(data.event_types, data.attributes, data.has_customers)
    strategy, rule_problems = validate_files(
        rules_dir, templates_dir=templates_dir, paths=paths, vocabulary=vocabulary
    )
    library = TemplateLibrary(templates_dir)
    problems += rule_problems
    # every template's own problems, whether or not the rules compile (a broken rule file
    # must not hide a broken template)
    problems += [p for name in library.names() for p in library.check(name)]
    problems += _template_warnings(library, vocabulary)
    if strategy is not None and settings is not None:
        problems += _render_problems(strategy, settings, library, data, now or clock.now())
    found = tuple(sorted(set(problems)))
    if strategy is None or any(p.is_error for p in found):
        return ProjectCheck(found, settings, None, None)
    return ProjectCheck(found, settings, strategy, library)


def computed_history(strategy: Strategy, library: TemplateLibrary) -> frozenset[Aggregate]:
    """The history values a run computes: those the conditions and the templates name."""
    named = (a for name in strategy.templates() for a in library.history_keys(name).values())
    return condition_aggregates(strategy.cadences) | frozenset(named)


def _render_problems(
    strategy: Strategy,
    settings: Settings,
    library: TemplateLibrary,
    data: ProjectData,
    now: datetime,
) -> list[Problem]:
    """Every step rendered for sample customers: the database's when it has some (real
    names break templates best), else the built-in awkward ones."""
    needed = computed_history(strategy, library)
    brand = settings.brand.as_context()

    def context(
        customer: Mapping[str, Any], events: Sequence[HistoryEvent], at: datetime
    ) -> MessageContext:
        return MessageContext.build(
            customer=customer,
            event=sample_event(),
            cadence="",
            step="",
            brand=brand,
            history=compute_aggregates(needed, events, at),
            now_utc=at,
            default_timezone=settings.timezone,
        )

    if data.customers:
        contexts = [context(s.customer, s.events, now) for s in data.customers]
    else:
        events = sample_events()
        contexts = [context(c, events, SAMPLE_NOW) for c in sample_customers()]
    steps = [StepTemplates.from_step(c.name, s) for c in strategy.cadences for s in c.steps]
    return check_step_lengths(library, steps, contexts, brand).problems


def _template_warnings(library: TemplateLibrary, vocabulary: Vocabulary) -> list[Problem]:
    """Likely typos in templates: a `history["…"]` key whose event type no data has, and a
    `customer.<name>` close to a known attribute (an absent one may be meant, |default)."""
    problems = []
    for name in library.names():
        where = f"{library.label}/{name}"
        for line, written, aggregate in library.history_lines(name):
            message = event_type_warning(aggregate.event_type, vocabulary)
            if message is not None:
                problems.append(
                    Problem(where, line, 0, f"history[{written!r}]: {message}", "warning")
                )
        for line, attribute in library.customer_reads(name):
            if attribute == "attributes":
                continue
            message = attribute_warning(attribute, vocabulary, close_only=True)
            if message is not None:
                problems.append(Problem(where, line, 0, message, "warning"))
    return problems
