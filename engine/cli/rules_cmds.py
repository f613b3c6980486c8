"""validate, schema: the marketer's checks before anything runs.

`validate` prints every problem as FILE:LINE:COL: message (one per line, files relative
to the working folder) or, with --format json, a JSON array for editors and CI.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine.cli.context import app
from engine.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from engine.config import Settings
    from engine.strategy.model import Strategy

SAMPLE_LIMIT = 50  # customers from the database used to render each template


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: an array of {file, line, col, message} for editors and CI.",
)
def validate(paths: tuple[Path, ...], output: str) -> None:
    """Check rule files, templates and config.

    PATH may be rule files or folders of them (default: rules/ beside the config).
    Exit 0 when everything is right, 1 when anything is wrong.
    """
    from engine.strategy import validate_files

    context, problems = app(), []
    settings: Settings | None = None
    try:
        settings = context.settings
        rules_dir, templates_dir = settings.rules_dir, settings.templates_dir
    except InvalidInput as exc:  # report config problems with the rules', not instead
        problems += exc.problems
        rules_dir, templates_dir = context.project_dir / "rules", context.project_dir / "templates"
    strategy, rule_problems = validate_files(
        rules_dir, templates_dir=templates_dir, paths=list(paths) or None
    )
    problems += rule_problems
    problems += _template_syntax_problems(templates_dir)
    if strategy is not None and settings is not None:
        problems += _template_problems(strategy, settings, templates_dir)
    problems = sorted(set(problems))
    if output == "json":
        click.echo(json.dumps([dataclasses.asdict(p) for p in problems], indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
    if problems or strategy is None:
        raise click.exceptions.Exit(1)
    if output == "text":
        steps = sum(len(c.steps) for c in strategy.cadences)
        templates = len(strategy.templates())
        click.echo(
            f"OK: {_count(len(strategy.cadences), 'cadence')}, {_count(steps, 'step')}, "
            f"{_count(templates, 'template')}"
        )


def _template_syntax_problems(folder: Path) -> list[Problem]:
    """Every template's own problems, whether or not the rules compile (a broken rule file
    must not hide a broken template)."""
    from engine.messages import TemplateLibrary

    if not folder.is_dir():
        return []
    library = TemplateLibrary(folder)
    return [p for name in library.names() for p in library.check(name)]


def _template_problems(strategy: Strategy, settings: Settings, folder: Path) -> list[Problem]:
    """The referenced templates' problems, then every step rendered for sample customers."""
    from engine.messages import StepTemplates, TemplateLibrary, check_step_lengths

    library = TemplateLibrary(folder)
    problems = [p for name in strategy.templates() for p in library.check(name)]
    steps = [StepTemplates.from_step(c.name, s) for c in strategy.cadences for s in c.steps]
    report = check_step_lengths(library, steps, _samples(settings), settings.brand.as_context())
    return problems + report.problems


def _samples(settings: Settings) -> list[dict[str, Any]]:
    """Customers from the database when it has some (real names break templates best),
    else the built-in awkward samples. Never creates a database."""
    from sqlalchemy.exc import SQLAlchemyError

    from engine.errors import RapportError
    from engine.messages import sample_customers

    try:
        found = _database_customers(settings.database)
    except (SQLAlchemyError, RapportError, OSError):  # an unreachable database: use samples
        found = []
    return found or sample_customers()


def _database_customers(url: str) -> list[dict[str, Any]]:
    from sqlalchemy import make_url, select

    from engine.history.db import Database
    from engine.history.models import Customer

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return []
    database = Database.open(url, upgrade=False)
    try:
        with database.read() as session:
            # every message starts with @handle: a customer without one is never messaged
            query = select(Customer).where(Customer.handle.is_not(None))
            rows = session.scalars(query.order_by(Customer.id).limit(SAMPLE_LIMIT))
            return [
                {
                    "id": row.external_id,
                    "handle": row.handle,
                    "name": row.name,
                    "timezone": row.timezone,
                    "kind": row.kind,
                    "attributes": dict(row.attributes or {}),
                }
                for row in rows
            ]
    finally:
        database.dispose()


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@click.command()
def schema() -> None:
    """Print the JSON Schema of cadence files (for editors).

    \b
    Save it and point yaml-language-server at it from a rule file:
      rapport schema > cadence.schema.json
      # yaml-language-server: $schema=../cadence.schema.json
    """
    from engine.strategy import CADENCE_SCHEMA

    click.echo(json.dumps(CADENCE_SCHEMA, indent=2))


COMMANDS = [validate, schema]
