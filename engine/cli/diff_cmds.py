"""`rapport diff`: what a change of the rules changes in outcomes over a simulated window."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from engine.cli.context import app
from engine.cli.evaluate_cmds import TIME, writable_file, write_output


@click.command(name="diff")
@click.option(
    "--git",
    "revision",
    metavar="REV",
    help="Compare with the rules, templates and policy committed at REV (HEAD~1, a tag).",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(file_okay=False),
    help="Compare with the rule files in DIR (a project folder with rules/ works too).",
)
@click.option("--start", type=TIME, help="First evaluation (default: 30 days before --end).")
@click.option("--end", type=TIME, help="Last evaluation (default: the last stored event).")
@click.option("--every", default="1d", show_default=True, help="Time between evaluations.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json lists every added, removed and changed message.",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the output to this file.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False),
    help="Also draw the messages per day before and after, side by side (PNG).",
)
def diff_command(
    revision: str | None,
    rules_dir: str | None,
    start: datetime | None,
    end: datetime | None,
    every: str,
    fmt: str,
    out: str | None,
    chart: str | None,
) -> None:
    """What a change of the rules changes: both versions simulated over the same window.

    \b
    The other version (--git REV or --rules DIR) is "before", the current files are
    "after". Both replay the stored history with a simulated ledger; nothing is written.
    Shown: messages added and removed per cadence and step, the customers affected, a
    sample of the messages and of the texts that changed. A message is one customer,
    cadence, step and send time: a step sent on another day counts as removed + added.

    \b
    Examples:
      rapport diff --git HEAD~1
      rapport diff --git main --start 2026-05-01 --end 2026-06-30 --every 1h
      cp -r rules /tmp/rules-before   # then edit rules/
      rapport diff --rules /tmp/rules-before --format json --out diff.json --chart diff.png
    """
    from engine.durations import parse_duration
    from engine.modes.diff import (
        diff_document,
        diff_lines,
        diff_rules,
        version_from_folder,
        version_from_git,
    )
    from engine.modes.simulate_window import default_window

    if (revision is None) == (rules_dir is None):
        raise click.UsageError("give one of --git REV or --rules DIR")
    try:
        step = parse_duration(every)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from None
    if step.total_seconds() < 1:
        raise click.BadParameter(f"{every!r} is too short (use 1s or more)", param_hint="--every")
    for path, option in ((out, "--out"), (chart, "--chart")):
        if path:
            writable_file(path, option)
    ctx = app()
    window = default_window(ctx.database, start=start, end=end, every=step)
    config_path = Path(ctx.config_path).resolve()
    if revision is not None:
        version = version_from_git(ctx.settings, config_path, revision)
    else:
        version = version_from_folder(ctx.settings, config_path, Path(str(rules_dir)))
    with version as other:
        diff = diff_rules(ctx.database, ctx.settings, other, window)
    if chart:
        from engine.modes.simulate_charts import volume_comparison_chart

        png = volume_comparison_chart(diff.before, diff.after, labels=diff.labels)
        try:
            Path(chart).write_bytes(png)
        except OSError as exc:
            from engine.errors import RapportError

            raise RapportError(f"--chart {chart}: cannot write ({exc.strerror})") from None
    if fmt == "json":
        output = json.dumps(diff_document(diff), indent=2, ensure_ascii=False) + "\n"
    else:
        output = "\n".join(diff_lines(diff)) + "\n"
    if out:
        write_output(out, output)
        click.echo(f"{len(diff.added)} added, {len(diff.removed)} removed: written to {out}")
    else:
        click.echo(output, nl=False)
    if chart:
        click.echo(f"wrote {chart}", err=bool(not out))


COMMANDS: list[click.Command] = [diff_command]
