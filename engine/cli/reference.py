"""The CLI reference page (docs/reference/cli.md), generated from the click commands.

Each command's page section is its own `--help`, so the reference says exactly what the
terminal says and cannot drift: tests/test_docs.py regenerates it and compares with the
committed file. Regenerate after changing a command:

    python -m engine.cli.reference > docs/reference/cli.md     (or: make docs-reference)
"""

from __future__ import annotations

from collections.abc import Iterator

import click

REGENERATE = "python -m engine.cli.reference > docs/reference/cli.md"

# Fixed widths: the page must not depend on the terminal that generated it.
_WIDTH = 100

_HEADER = f"""# CLI reference

Generated from the commands themselves (`{REGENERATE}`); do not edit by hand.
Every command also answers `--help` in the terminal with the same text.

`rapport [--config PATH] COMMAND` (`python -m engine` works too). Exit codes: 0 ok,
1 the input is wrong (validation errors, bad rows), 2 a usage error.
"""


def _walk(
    command: click.Command, parent: click.Context | None, name: str
) -> Iterator[tuple[str, click.Context]]:
    # As `make_context` does for the terminal: the command's own context settings (the
    # root's `-h`), inherited by its subcommands.
    settings = {**command.context_settings, "terminal_width": _WIDTH, "max_content_width": _WIDTH}
    ctx = click.Context(command, info_name=name, parent=parent, **settings)
    yield ctx.command_path, ctx
    if isinstance(command, click.Group):
        for sub_name in sorted(command.commands):
            yield from _walk(command.commands[sub_name], ctx, sub_name)


def _slug(path: str) -> str:
    return path.replace(" ", "-")


def render(root: click.Group) -> str:
    """The whole page: a table of contents, then each command's help in a text block."""
    sections = list(_walk(root, None, "rapport"))
    lines = [_HEADER, "## Commands", ""]
    for path, ctx in sections[1:]:
        summary = ctx.command.get_short_help_str(limit=_WIDTH)
        lines.append(f"- [`{path}`](#{_slug(path)}): {summary}")
    lines.append("")
    for path, ctx in sections:
        lines += [f"## {path} {{#{_slug(path)}}}", "", "```text"]
        lines += [line.rstrip() for line in ctx.command.get_help(ctx).splitlines()]
        lines += ["```", ""]
    return "\n".join(lines)


def main() -> None:
    from engine.cli import cli

    click.echo(render(cli), nl=False)


if __name__ == "__main__":
    main()
