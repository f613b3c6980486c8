"""`rapport daemon`: the long-running scheduler (engine/daemon, docs/daemon.md)."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.context import app


@click.command(name="daemon")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per line, for log collectors.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes that evaluate customers (durable_rules runs only there).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Customers per batch: one batch is one transaction, and the unit a stop waits for.",
)
def daemon_command(log_format: str, workers: int, batch_size: int) -> None:
    """Run the scheduler: evaluate, deliver, poll X, hot-reload rules.

    Jobs come from `schedule:` in config.yaml (evaluate_every, deliver_every,
    poll_x_every) plus hourly housekeeping. A changed rules/, templates/ or config.yaml
    is checked like `rapport validate` at the next evaluation: valid, it replaces the
    running version; invalid, its problems are logged and the last good version keeps
    running. One daemon per database; SIGTERM or Ctrl-C stops it after the batch in
    flight (exit 0).

    \b
    Examples:
      rapport daemon
      rapport --config /srv/acme/config.yaml daemon --log-format json
      kill -TERM <pid>            # a clean stop
    """
    from engine import clock
    from engine.daemon import logs
    from engine.daemon.lock import DaemonLock
    from engine.daemon.reload import load_project
    from engine.daemon.service import Daemon
    from engine.errors import InvalidInput

    context = app()
    logs.configure(log_format)
    config_path = Path(context.config_path)
    # The checks of `rapport validate`: a daemon never starts on a broken project.
    project, problems = load_project(config_path, now=clock.now())
    if project is None:
        raise InvalidInput(problems)
    db = context.database
    lock = DaemonLock(db)
    lock.acquire()  # refuses, naming the running daemon, when there is one
    try:
        Daemon(config_path, db, project, workers=workers, batch_size=batch_size).run()
    finally:
        lock.release()


COMMANDS = [daemon_command]
