"""Operations: status, pause/resume, resolve, forget (engine/ops/), and the commands whose
issues have not landed yet (each says so plainly, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine import clock
from engine.cli.context import app, not_built
from engine.errors import RapportError


@click.command(name="status")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json carries every field, for scripts and monitoring.",
)
def status_command(fmt: str) -> None:
    """Daemon health, rules, pauses, outbox, review queue, runs, X budgets, ingestion.

    Exit 0 when healthy, 1 when degraded: no running daemon (never started, stopped, a
    stale heartbeat or a dead process), a refused rules reload, or `unknown` messages
    waiting for `rapport resolve`. A monitoring check can run it as is.

    \b
    Examples:
      rapport status
      rapport status --format json | jq .outbox.by_state
    """
    from engine.ops.status import as_text, collect

    ctx = app()
    status = collect(ctx.database, ctx.settings, now=clock.now())
    if fmt == "json":
        click.echo(json.dumps(status.as_dict(), indent=2))
    else:
        click.echo(as_text(status))
    raise click.exceptions.Exit(status.exit_code)


CADENCE = click.option("--cadence", metavar="NAME", help="Only this cadence (default: all).")


def _known_cadence(cadence: str | None) -> None:
    """A pause of a cadence that does not exist would silently pause nothing. Known: a
    cadence in rules/ or one that ever went live. An emergency stop must work while the
    rules are broken, so broken rules only narrow the check to the second kind."""
    if cadence is None:
        return
    from engine.errors import InvalidInput
    from engine.facts.loading import load_launches
    from engine.strategy import load_strategy

    ctx = app()
    settings = ctx.settings
    names = set(load_launches(ctx.database))
    try:
        strategy = load_strategy(settings.rules_dir, templates_dir=settings.templates_dir)
        names |= {c.name for c in strategy.cadences}
    except InvalidInput:
        pass
    if cadence not in names:
        raise click.BadParameter(
            f"no cadence named {cadence!r} (cadences: {', '.join(sorted(names)) or 'none'})",
            param_hint="--cadence",
        )


@click.command(name="pause")
@CADENCE
def pause_command(cadence: str | None) -> None:
    """Stop sending at once: all messages, or one cadence's.

    The daemon checks before each post to X: a request in flight finishes, nothing new
    leaves. Evaluation goes on planning; `rapport resume` sends what is still within its
    step's `expires`. `rapport status` shows what is paused.

    \b
    Examples:
      rapport pause                       # everything
      rapport pause --cadence winback     # one cadence
    """
    from engine.ops.pause import pause

    _known_cadence(cadence)
    what = f"cadence {cadence}" if cadence else "all sending"
    if pause(app().database, cadence=cadence, now=clock.now()):
        click.echo(f"paused {what}")
    else:
        click.echo(f"{what} was already paused")


@click.command(name="resume")
@CADENCE
def resume_command(cadence: str | None) -> None:
    """Lift a pause: the global one, or one cadence's.

    A cadence paused on its own stays paused when the global pause is lifted.

    \b
    Examples:
      rapport resume
      rapport resume --cadence winback
    """
    from engine.ops.pause import pauses, resume

    db = app().database
    what = f"cadence {cadence}" if cadence else "all sending"
    if not resume(db, cadence=cadence):
        raise RapportError(f"{what} was not paused", hint="`rapport status` shows what is")
    left = pauses(db)
    if cadence is None:
        still = ", ".join(sorted(left))
        click.echo(f"resumed {what}" + (f" (cadences still paused: {still})" if still else ""))
    else:
        click.echo(f"resumed {what}" + (" (all sending is still paused)" if "*" in left else ""))


@click.command(name="resolve")
@click.argument("contact_id", metavar="ID", type=int)
@click.option("--sent", "sent_url", metavar="URL", help="It was posted: the post's address on X.")
@click.option("--not-sent", is_flag=True, help="It was not posted: mark it failed, never resent.")
def resolve_command(contact_id: int, sent_url: str | None, not_sent: bool) -> None:
    """Settle a message whose sending is uncertain (state `unknown`).

    Look for the reply on the brand's timeline; then either give the post's address
    (the post id is taken from it) or say it is not there. A message marked not sent
    becomes `failed` and is never resent: a new occurrence needs a new enrolment.
    Only `unknown` messages can be resolved (`rapport status` counts them).

    \b
    Examples:
      rapport resolve 42 --sent https://x.com/acme/status/1799999999999999999
      rapport resolve 43 --not-sent
    """
    from engine.ops.resolve import resolve

    if (sent_url is None) == (not not_sent):
        raise click.UsageError("give exactly one of --sent URL or --not-sent")
    row = resolve(app().database, contact_id, sent_url=sent_url, now=clock.now())
    if row.state == "sent":
        click.echo(f"message {contact_id} is sent (post {row.remote_id})")
    else:
        click.echo(f"message {contact_id} is failed: {row.reason}")


@click.command(name="forget")
@click.argument("customer", required=False)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--posts",
    "posts_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A file of deleted posts (ids or addresses, one a line): remove their stored text.",
)
def forget_command(customer: str | None, yes: bool, posts_file: str | None) -> None:
    """Erase a customer's personal data on request, or the text of deleted posts.

    CUSTOMER is the external id from your import, or @handle. Erased: name, handle,
    attributes, event properties, message texts (and every other personal column); kept,
    anonymised: the rows caps and measurement count (an opaque id, types, times,
    states). One transaction; it cannot be undone. A later post from the same X account
    is treated as a stranger's.

    \b
    Examples:
      rapport forget cust-1042
      rapport forget @jane_doe --yes
      rapport forget --posts deleted.txt     # posts deleted on X
    """
    if (customer is None) == (posts_file is None):
        raise click.UsageError("give a CUSTOMER or --posts FILE")
    db, now = app().database, clock.now()
    if posts_file is not None:
        from engine.ops.forget import purge_deleted_posts, record_deleted_posts

        ids = _post_ids(Path(posts_file))
        added = record_deleted_posts(db, ids, now=now, source="operator")
        purged = purge_deleted_posts(db, now=now)
        click.echo(
            f"{len(ids)} deleted posts listed ({added} new); text removed from {purged} rows"
        )
        return
    from engine.ops.forget import find_customer, forget

    assert customer is not None
    row_id = find_customer(db, customer)
    if not yes:
        click.confirm(
            f"Erase every personal detail of customer {customer}? This cannot be undone",
            abort=True,
        )
    done = forget(db, row_id, now=now)
    click.echo(
        f"forgotten: customer {customer} is now {done.opaque_id} "
        f"({done.events} events and {done.contacts} messages anonymised, "
        f"{done.cancelled} queued messages cancelled)"
    )


def _post_ids(path: Path) -> list[str]:
    """Post ids, one a line: a bare id or a post's address; # starts a comment."""
    from engine.ops.resolve import post_id_from_url

    ids = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.isdigit():
            ids.append(line)
            continue
        try:
            ids.append(post_id_from_url(line))
        except RapportError:
            raise RapportError(
                f"{path}:{number}: {line!r} is neither a post id nor a post's address",
                hint="one id (digits) or https://x.com/<user>/status/<id> a line",
            ) from None
    return ids


COMMANDS = [
    status_command,
    pause_command,
    resume_command,
    resolve_command,
    forget_command,
    not_built("worker", "Multi-machine mode on PostgreSQL."),
]
