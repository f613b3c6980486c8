"""`rapport report`: responses, lift against the holdout and ROI, per cadence, step and
variant, as text, JSON, one self-contained HTML file, or PNG charts."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from engine import clock
from engine.cli.context import app
from engine.cli.evaluate_cmds import TIME, writable_file, write_output
from engine.errors import RapportError

FORMATS = ("text", "json", "html", "png")


@click.command(name="report")
@click.option("--since", type=TIME, help="Only exposures (window starts) at or after this time.")
@click.option("--until", type=TIME, help="Only exposures before this time.")
@click.option("--cadence", help="One cadence only (default: every cadence in the ledger).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for the terminal, json for scripts, html for one self-contained file, "
    "png for the charts as files (needs --out DIR).",
)
@click.option(
    "--out",
    type=click.Path(),
    help="File to write (text, json, html; default: standard output), or folder (png).",
)
def report_command(
    since: datetime | None,
    until: datetime | None,
    cadence: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """Sends, responses, lift against the holdout and ROI per cadence, step and variant.

    A response is an event of a `report.responses` type (default: purchase) within
    `report.window` (default 14d) after a message; for a held-out enrolment, after the
    step would have been sent. The primary comparison is intent-to-treat (everyone
    assigned to treatment against everyone held out), with 95% intervals (Newcombe for
    the lift, Welch for revenue); sent-only is shown as secondary. Controls too small for
    an interval say "lift unknown". Only windows that have closed are counted.

    \b
    Examples:
      rapport report
      rapport report --since 2026-01-01 --until 2026-04-01 --cadence win-back
      rapport report --format json --out report.json
      rapport report --format html --out report.html
      rapport report --format png --out charts/
    """
    if since is not None and until is not None and until <= since:
        raise click.BadParameter(
            f"{until.isoformat()} is not after --since {since.isoformat()}", param_hint="--until"
        )
    if fmt == "png" and out is None:
        raise click.UsageError("--format png writes one file per chart: give --out DIR")
    from engine.reporting import Scope, measure
    from engine.reporting.responses import known_cadences

    ctx = app()
    db = ctx.database
    if cadence is not None and cadence not in (known := known_cadences(db)):
        raise RapportError(
            f"--cadence {cadence}: no enrolment of this cadence in the ledger",
            hint=f"known: {', '.join(known)}" if known else "nothing has been measured yet",
        )
    scope = Scope(since=since, until=until, cadence=cadence, as_of=clock.now())
    report = measure(db, scope, ctx.settings.report)
    if fmt == "text":
        from engine.reporting.text import render_text

        _emit(out, render_text(report))
    elif fmt == "json":
        _emit(out, json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        from engine.reporting.charts import all_charts
        from engine.reporting.responses import weekly_messages

        charts = all_charts(report, weekly_messages(db, scope))
        if fmt == "html":
            from engine.reporting.html import render_html

            _emit(out, render_html(report, charts))
        else:
            assert out is not None
            _write_charts(Path(out), charts)


def _emit(out: str | None, text: str) -> None:
    if out is None:
        click.echo(text, nl=False)
        return
    writable_file(out)
    write_output(out, text)
    click.echo(f"wrote {out}")


def _write_charts(folder: Path, charts: dict[str, bytes]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in charts.items():
            (folder / f"{name}.png").write_bytes(data)
    except OSError as exc:
        raise RapportError(
            f"--out {folder}: cannot write the charts ({exc.strerror})",
            hint="choose a folder you can write to",
        ) from None
    for name in charts:
        click.echo(f"wrote {folder / name}.png")


COMMANDS: list[click.Command] = [report_command]
