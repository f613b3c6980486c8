"""validate, schema: the marketer's checks before anything runs.

`validate` prints every problem as FILE:LINE:COL: message (one per line, files relative
to the working folder) or, with --format json, a JSON array for editors and CI. The
checks themselves are engine/project.py's `validate_project`; this module only reads the
database's data for it and prints.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from engine.cli.context import app


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: an array of {file, line, col, message, severity} for editors and CI.",
)
def validate(paths: tuple[Path, ...], output: str) -> None:
    """Check rule files, templates and config.

    PATH may be rule files or folders of them (default: rules/ beside the config).
    Every step is rendered for customers from the database (or built-in samples when it
    has none). Exit 0 when there is no error, 1 when there is one.

    Warnings (`FILE:LINE:COL: warning: ...`) point at likely typos, such as an event type
    or a customer attribute that no data in the database has; they do not change the
    exit code. docs/templates.md says what templates can read.

    \b
    Examples:
      rapport validate
      rapport validate rules/welcome.yaml --format json
    """
    from engine.errors import InvalidInput
    from engine.history.project_data import ProjectData, read_project_data
    from engine.project import validate_project

    context = app()
    try:
        data = read_project_data(context.settings.database)
    except InvalidInput:  # validate_project reports the config's problems
        data = ProjectData()
    check = validate_project(context.config_path, paths=list(paths) or None, database=data)
    if output == "json":
        click.echo(json.dumps([dataclasses.asdict(p) for p in check.problems], indent=2))
    else:
        for problem in check.problems:
            click.echo(str(problem))
    if check.strategy is None:
        raise click.exceptions.Exit(1)
    if output == "text":
        strategy = check.strategy
        steps = sum(len(c.steps) for c in strategy.cadences)
        templates = len(strategy.templates())
        click.echo(
            f"OK: {_count(len(strategy.cadences), 'cadence')}, {_count(steps, 'step')}, "
            f"{_count(templates, 'template')}"
        )


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
