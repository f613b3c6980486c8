"""Operations commands whose issues have not landed yet: each says so plainly (exit 2)."""

from __future__ import annotations

import click

from engine.errors import NotBuiltYet


def _not_built(name: str, help_text: str) -> click.Command:
    @click.command(name=name, help=help_text + "\n\nNot built yet: this command exits 2.")
    @click.argument("args", nargs=-1)
    def command(args: tuple[str, ...]) -> None:
        raise NotBuiltYet(name)

    return command


COMMANDS = [
    _not_built("daemon", "Run the scheduler: evaluate, deliver, poll X, hot-reload rules."),
    _not_built("review", "List the review queue of assisted messages."),
    _not_built("approve", "Approve messages in the review queue by ID."),
    _not_built("reject", "Reject messages in the review queue by ID."),
    _not_built("mark-sent", "Record a message a person posted from the review queue."),
    _not_built("report", "Sends, responses, lift against holdout and ROI per cadence."),
    _not_built("status", "Daemon health, outbox by state, last runs."),
    _not_built("worker", "Multi-machine mode on PostgreSQL."),
]
