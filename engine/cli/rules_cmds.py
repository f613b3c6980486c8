"""validate, schema. (Owned by the rule-language work.)"""

from __future__ import annotations

import click

from engine.errors import NotBuiltYet


@click.command()
@click.argument("paths", nargs=-1)
def validate(paths: tuple[str, ...]) -> None:
    """Check rule files, templates and config."""
    raise NotBuiltYet("validate")


@click.command()
def schema() -> None:
    """Print the JSON Schema of cadence files."""
    raise NotBuiltYet("schema")


COMMANDS = [validate, schema]
