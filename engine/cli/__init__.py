"""`rapport` command line. Maps RapportError to one clear line and an exit code."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import RapportError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default="config.yaml",
    show_default=True,
    envvar="RAPPORT_CONFIG",
    help="Settings file (docs/reference/config.md). RAPPORT_DATABASE_URL overrides its `database`.",
)
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(package_name="rapport")
@click.pass_context
def cli(ctx: click.Context, config_path: str, debug: bool) -> None:
    """Rapport: contact strategies for relationship marketing on X.

    Write cadences in rules/*.yaml, messages in templates/*.j2, then:

    \b
      rapport validate            check rules, templates and config
      rapport import events F     load history (CSV or JSONL)
      rapport preview --at T      what one evaluation at T would send, and why
      rapport run --once          evaluate for real (writes the outbox)
    """
    from engine.cli.context import AppContext

    ctx.obj = AppContext(config_path=config_path, debug=debug)


def _register() -> None:
    from engine.cli import data_cmds, evaluate_cmds, ops_cmds, report_cmds, review_cmds, rules_cmds

    for module in (rules_cmds, data_cmds, evaluate_cmds, review_cmds, report_cmds, ops_cmds):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        # Without standalone mode click *returns* the code of `raise click.exceptions.Exit(n)`.
        code = cli.main(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except RapportError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except SQLAlchemyError as exc:
        if debug:
            raise
        # Connection refused, locked file, missing permissions: say what and where, briefly.
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        click.echo(f"error: database: {reason} (run with --debug for details)", err=True)
        sys.exit(1)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in Rapport; run with --debug for the traceback and report it)",
            err=True,
        )
        sys.exit(70)
