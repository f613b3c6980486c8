"""preview, explain, simulate, run, diff. (Owned by the evaluation work.)

Every one of them is the same evaluation (engine.evaluation) with a different sink:
run writes, preview records in memory.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import click

from engine import clock
from engine.cli.context import app
from engine.errors import RapportError


class TimeParam(click.ParamType):
    """An ISO 8601 instant (a date alone is 00:00 UTC), as aware UTC."""

    name = "TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            value = value.isoformat()  # same checks (range, overflow) as a typed value
        try:
            return clock.parse_time(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeParam()


def whole_second_now() -> datetime:
    """The default evaluation time: now, to the second, as every time is shown."""
    return clock.now().replace(microsecond=0)


def writable_file(out: str, option: str = "--out") -> None:
    """An output file must be in an existing folder (its parent is not a file)."""
    folder = Path(out).parent
    if not folder.is_dir():
        raise RapportError(
            f"{option} {out}: {folder} is not a folder", hint="create it or choose another path"
        )


def write_output(out: str, text: str) -> None:
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RapportError(f"--out {out}: cannot write ({exc.strerror})") from None


OUTPUT_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="json and csv carry every field, for scripts and spreadsheets.",
)
WORKERS = click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes for a full pass (default: one per core from 20,000 customers on).",
)


@click.command(name="run")
@WORKERS
@click.option(
    "--once", is_flag=True, help="Evaluate once and exit (the daemon runs on a schedule)."
)
@click.option("--at", "at", type=TIME, help="Evaluate as of this time (default: now).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def run_command(once: bool, at: datetime | None, fmt: str, workers: int | None) -> None:
    """One real evaluation: writes enrolments, decisions and the outbox."""
    if not once:
        raise click.UsageError("use `rapport run --once` (or `rapport daemon` to keep running)")
    from engine.modes import EvaluationOptions, run_once

    ctx = app()
    now = at or whole_second_now()
    options = EvaluationOptions(workers=workers)
    summary = run_once(ctx.database, ctx.settings, now=now, options=options)
    if fmt == "json":
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        click.echo(summary.text())


@click.command(name="preview")
@WORKERS
@click.option("--at", "at", type=TIME, help="Evaluate as of this time (default: now).")
@click.option("--customer", help="Only this customer (external id or @handle).")
@click.option("--cadence", help="Only this cadence.")
@click.option("--all", "include_all", is_flag=True, help="Add every not-sent decision and why.")
@click.option(
    "--warnings",
    "every_warning",
    is_flag=True,
    help="List every warning (default: one line per kind, with a count and two examples).",
)
@OUTPUT_FORMAT
def preview_command(
    at: datetime | None,
    customer: str | None,
    cadence: str | None,
    include_all: bool,
    every_warning: bool,
    fmt: str,
    workers: int | None,
) -> None:
    """What one evaluation at T would send, rendered, and why not. Writes nothing.

    \b
    The table format starts with a summary (messages by cadence, step and channel; what
    is not sent, by reason), then one row per message with the customer's local send
    time, then one line per kind of warning (identical texts, texts to fix).

    \b
    Examples:
      rapport preview --at 2026-06-15T18:00:00Z
      rapport preview --customer @ana --all
      rapport preview --cadence welcome --format csv > welcome.csv
    """
    from engine.modes import EvaluationOptions, preview
    from engine.modes.output import as_csv, as_json, preview_rows
    from engine.modes.preview_report import show_preview

    ctx = app()
    now = at or whole_second_now()
    summary, sink = preview(
        ctx.existing_database,
        ctx.settings,
        now=now,
        options=EvaluationOptions(customer=customer, cadence=cadence, workers=workers),
    )
    rows = preview_rows(sink.changes.decisions, include_all=include_all)
    if fmt == "json":
        click.echo(as_json(rows))
    elif fmt == "csv":
        click.echo(as_csv(rows), nl=False)
    else:
        show_preview(
            ctx.database,
            ctx.settings,
            sink.changes.decisions,
            rows=rows,
            now=now,
            include_all=include_all,
            every_warning=every_warning,
        )
        click.echo(summary.text(dry_run=True))
        return
    from engine.modes.preview_report import preview_warnings, warning_lines

    for line in warning_lines(preview_warnings(sink.changes.decisions), every=every_warning):
        click.echo(line, err=True)


@click.command(name="simulate")
@click.option("--start", type=TIME, required=True, help="First evaluation time (the go-live).")
@click.option("--end", type=TIME, required=True, help="No evaluation after this time.")
@click.option("--every", default="1d", show_default=True, help="Time between evaluations.")
@OUTPUT_FORMAT
@click.option("--out", type=click.Path(dir_okay=False), help="Write the output to this file.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False),
    help="Also draw messages per day per cadence, and the share held by caps and quiet hours"
    " (PNG).",
)
@click.option(
    "--html",
    type=click.Path(dir_okay=False),
    help="Also write one self-contained page: summary, chart, messages per week.",
)
def simulate_command(
    start: datetime,
    end: datetime,
    every: str,
    fmt: str,
    out: str | None,
    chart: str | None,
    html: str | None,
) -> None:
    """Replay the strategy over the stored history; writes nothing to the database.

    \b
    Each evaluation sees only the events up to its time and the messages the earlier
    ones planned. Past the last stored event the replay goes on: a forecast for the
    customers as they stand.

    \b
    Examples:
      rapport simulate --start 2026-05-16 --end 2026-06-15
      rapport simulate --start 2026-06-01 --end 2026-07-31 --chart sim.png --html sim.html
      rapport simulate --start 2026-06-01 --end 2026-06-08 --every 6h --format csv --out sim.csv
    """
    from engine.durations import MAX_DURATION, format_duration, parse_duration
    from engine.modes.output import (
        as_csv,
        as_json,
        preview_rows,
        simulation_note,
        simulation_table,
        simulation_total,
    )
    from engine.modes.simulation import simulate

    try:
        step = parse_duration(every)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from None
    if not timedelta(seconds=1) <= step <= MAX_DURATION:
        raise click.BadParameter(
            f"{every!r} is out of range (use 1s to {format_duration(MAX_DURATION)})",
            param_hint="--every",
        )
    if end < start:
        raise click.BadParameter(
            f"{clock.utc_text(end)} is before --start {clock.utc_text(start)}", param_hint="--end"
        )
    for path, option in ((out, "--out"), (chart, "--chart"), (html, "--html")):
        if path:
            writable_file(path, option)  # before the replay, not after minutes of it
    ctx = app()
    database = ctx.existing_database  # before the note: no database, no note
    if note := simulation_note(start, end, step, every):
        click.echo(note, err=True)
    summaries, decisions = simulate(database, ctx.settings, start=start, end=end, every=step)
    if chart or html:
        from engine.modes.simulate_html import write_simulation_files
        from engine.modes.simulate_window import Simulation, Window, last_stored_event

        simulation = Simulation(
            Window(start, end, step), summaries, decisions, last_stored_event(database)
        )
        for path in write_simulation_files(simulation, chart=chart, html=html):
            click.echo(f"wrote {path}")
    rows = preview_rows(decisions, include_all=False)
    if fmt == "json":
        output = as_json(rows) + "\n"
    elif fmt == "csv":
        output = as_csv(rows)
    else:
        from rich.console import Console

        console = Console(record=True, soft_wrap=False, file=io.StringIO())
        console.print(simulation_table(rows, start=start, end=end, every=every))
        # Plain lines, not through rich: a terminal-wide wrap would split each in two.
        lines = [summary.text(dry_run=True) for summary in summaries]
        output = console.export_text() + "\n".join([*lines, simulation_total(summaries)]) + "\n"
    if out:
        write_output(out, output)
        click.echo(f"{len(rows)} messages over {len(summaries)} evaluations written to {out}")
    else:
        click.echo(output, nl=False)


@click.command(name="explain")
@click.argument("customer")
@click.option("--at", "at", type=TIME, help="Evaluate as of this time (default: now).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json for tools.",
)
def explain_command(customer: str, at: datetime | None, fmt: str) -> None:
    """For one customer, each cadence: enrolled or not, which step is due, why. Writes nothing.

    \b
    Shows each condition with its values (sum(purchase.amount, 365d) = 84.50 >= 100 →
    false), the caps with the contacts that fill them, quiet hours in the customer's
    local time, and the next time the customer will be looked at (wake_at).

    \b
    Examples:
      rapport explain @ana --at 2026-06-15T18:00:00Z
      rapport explain 000042 --format json
    """
    from engine.modes.explain import explain, explain_run
    from engine.modes.explain_json import explain_document

    ctx = app()
    now = at or whole_second_now()
    if fmt == "json":
        database = ctx.existing_database
        with database.snapshot():  # one consistent read, as for the text answer
            run = explain_run(database, ctx.settings, customer, now=now)
            document = explain_document(run)
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    lines = explain(ctx.existing_database, ctx.settings, customer, now=now)
    click.echo("\n".join(lines))


COMMANDS: list[click.Command] = [
    run_command,
    preview_command,
    explain_command,
    simulate_command,
]
