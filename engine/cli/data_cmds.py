"""import customers/events, demo-data, db upgrade."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.cli.context import app

if TYPE_CHECKING:
    from engine.history.importing import ImportSummary

# A progress bar only where someone watches it and the wait is noticeable; tests and pipes
# (stderr not a terminal) get the problems and the summary, nothing else.
PROGRESS_MIN_BYTES = 1_000_000


@contextmanager
def _progress(path: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for a big file when someone watches; None otherwise."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        size = 0
    if not sys.stderr.isatty() or size < PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        "[progress.percentage]{task.percentage:>3.0f}%",
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(Path(path).name, total=size)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _finish(summary: ImportSummary) -> None:
    """Problems (grouped by kind) and warnings go to stderr, the summary to stdout (scripts
    parse it); any rejected row makes the exit 1."""
    for line in summary.report():
        click.echo(line, err=True)
    for warning in summary.warnings:
        click.echo(warning, err=True)
    click.echo(str(summary))
    if summary.rejected:
        raise click.exceptions.Exit(1)


@click.group(name="import")
def import_group() -> None:
    """Load customers, events or past contacts from a CSV or JSONL file (idempotent).

    Bad rows are reported as FILE:ROW: field ... and skipped; the rest is imported.
    Exit 1 when any row was rejected.
    """


@import_group.command(name="customers")
@click.argument("file", type=click.Path(dir_okay=False))
def import_customers_cmd(file: str) -> None:
    """Upsert customers by id: id, handle, name, timezone, kind, consent_at, attributes…

    \b
    Columns: id (required), handle, name, timezone, kind, consent_at, consent_source;
    every other column is an attribute.
    A customer already stored keeps what the file does not mention: only the file's
    columns are updated (an empty cell clears that column or attribute); other
    attributes are kept. In JSONL, a row's keys are its columns (null = not given).
    An id that comes twice in one file is reported and its first row kept; a file of
    events (columns type and occurred_at) is refused.

    \b
    Examples:
      rapport import customers customers.csv
      rapport import customers crm_export.jsonl
    """
    from engine.history.importing import import_customers

    db = app().database
    with _progress(file) as on_progress:
        summary = import_customers(db, file, on_progress=on_progress)
    _finish(summary)


@import_group.command(name="events")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--source",
    default="import",
    show_default=True,
    help="Where the events come from; event ids are unique per source.",
)
@click.option(
    "--update",
    is_flag=True,
    help="Replace a stored event whose id comes again with different content "
    "(without it, such a row is reported as a conflict and the stored event kept).",
)
def import_events_cmd(file: str, source: str, update: bool) -> None:
    """Add events: customer_id (or handle), type, occurred_at, id, properties…

    \b
    Columns: customer_id or handle, type, occurred_at (ISO 8601; a date alone is
    00:00 UTC), id (optional); every other column is a property.
    Types are stored in lower case (Purchase and purchase are one type).
    An id already imported with the same content is counted unchanged; with other
    content it is a conflict (exit 1) unless --update replaces the stored event.

    \b
    Examples:
      rapport import events events.csv
      rapport import events corrections.csv --update
    """
    from engine.history.importing import import_events

    db = app().database
    with _progress(file) as on_progress:
        summary = import_events(db, file, source=source, update=update, on_progress=on_progress)
    _finish(summary)


@import_group.command(name="contacts")
@click.argument("file", type=click.Path(dir_okay=False))
def import_contacts_cmd(file: str) -> None:
    """Add past contacts from another tool: counted by caps, reentry and measurement.

    \b
    Columns: customer_id (or handle), cadence, step, sent_at (required);
    enrolled_at (default sent_at; rows with one customer, cadence and enrolled_at are
    the steps of one enrolment), group (treatment | holdout | global_holdout; default
    treatment), state (sent | failed | rejected | expired | cancelled; default sent;
    empty for a holdout), channel (review | x; default review), variant, text.
    A holdout row is a control that got no message: measured, never counted by caps.

    \b
    Example:
      customer_id,cadence,step,sent_at,group
      000042,win-back,winback,2025-11-02T10:00:00Z,treatment
      000043,win-back,winback,2025-11-02T10:00:00Z,holdout
    """
    from engine.history.importing.contacts import import_contacts

    db = app().database
    with _progress(file) as on_progress:
        summary = import_contacts(db, file, on_progress=on_progress)
    _finish(summary)


def _end_time(_ctx: click.Context, _param: click.Parameter, value: str) -> datetime:
    from engine.clock import parse_time

    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _share(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    from engine.percent import parse_percent

    if value is None:
        return None
    try:
        return parse_percent(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(name="demo-data")
@click.option("--customers", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="demo",
    show_default=True,
    help="Directory for customers.csv and events.csv.",
)
@click.option(
    "--end",
    default="2026-06-15",
    show_default=True,
    callback=_end_time,
    help="History ends here (ISO 8601; a date alone is 00:00 UTC).",
)
@click.option(
    "--planted-lift",
    callback=_share,
    help="Also write past campaigns (contacts.csv) and their responses (responses.csv) "
    "with this lift planted, e.g. 4% (for `rapport report`).",
)
def demo_data(
    customers: int, seed: int, out: str, end: datetime, planted_lift: float | None
) -> None:
    """Write a deterministic synthetic history (same seed, same bytes).

    \b
    Examples:
      rapport demo-data --customers 200 --seed 7 --out demo
      rapport demo-data --customers 2000 --planted-lift 4% --out demo
    """
    from engine.demo_data import write_files

    counts = write_files(
        Path(out), customers=customers, seed=seed, end=end, planted_lift=planted_lift
    )
    click.echo(
        f"wrote {counts.customers} customers to {counts.customers_file} and "
        f"{counts.events} events to {counts.events_file}"
    )
    if counts.planted is not None:
        planted = counts.planted
        click.echo(
            f"wrote {planted.contacts} past contacts to {planted.contacts_file} and "
            f"{planted.responses} planted responses to {planted.responses_file}"
        )


@click.group(name="db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command(name="upgrade")
def db_upgrade() -> None:
    """Apply pending migrations and print the database's revision."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import make_url

    from engine.history.db import Database
    from engine.history.migrate import upgrade

    url = app().settings.database
    db = Database.open(url, upgrade=False)
    try:
        upgrade(db)
        with db.engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        db.dispose()
    shown = make_url(url).render_as_string(hide_password=True)
    click.echo(f"{shown}: at revision {revision}")


COMMANDS: list[click.Command] = [import_group, demo_data, db_group]
