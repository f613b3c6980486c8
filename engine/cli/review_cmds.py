"""review, approve, reject, edit, mark-sent: the review queue from the terminal.

The reviewer recorded with each action is the OS user running the command. Every command
first expires what `review.expires` says is overdue, so the queue shown is the queue that
can be acted on.
"""

from __future__ import annotations

import getpass
import json
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import click

from engine import clock
from engine.cli.context import AppContext, app
from engine.durations import format_duration, is_duration, parse_duration
from engine.errors import RapportError

if TYPE_CHECKING:
    from engine.review.items import ReviewItem
    from engine.review.queue import Reviewer

HANDLE_PLACEHOLDER = "{handle}"


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown"


def printable(text: str) -> str:
    """Customer-written text for a terminal: line breaks shown as ⏎, other control
    characters (terminal escape sequences among them) as �."""
    shown = text.replace("\r\n", "\n").replace("\n", " ⏎ ")
    return "".join("�" if unicodedata.category(ch) == "Cc" else ch for ch in shown)


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h{minutes % 60:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24}h"


def _prepare(ctx: AppContext) -> tuple[datetime, Reviewer]:
    """Expire what is overdue; returns (now, the reviewer with settings and rules)."""
    from engine.review.queue import Reviewer, RuleFacts, expire_overdue

    now = clock.now()
    settings = ctx.settings
    expire_overdue(ctx.database, expires=settings.review.expires, now=now)
    rules, warning = RuleFacts.load(settings)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    return now, Reviewer(os_user(), settings, rules)


def _targets(ctx: AppContext, ids: Sequence[int], all_: bool, cadence: str | None) -> list[int]:
    """The ids named, or with --all every pending message of --cadence."""
    if all_ and ids:
        raise click.UsageError("give message ids or --all --cadence NAME, not both")
    if all_:
        if not cadence:
            raise click.UsageError("--all needs --cadence NAME (one cadence at a time)")
        from engine.review.items import load_items

        with ctx.database.read() as session:
            return [item.id for item in load_items(session, cadence=cadence, now=clock.now())]
    if cadence:
        raise click.UsageError("--cadence goes with --all")
    if not ids:
        raise click.UsageError("name at least one message id (see `rapport review`)")
    return list(ids)


def _each(ids: Sequence[int], act: Callable[[int], str], verb: str, *, bulk: bool) -> None:
    """Act on every id; refusals are one line each on stderr and make the exit 1."""
    from engine.review.queue import ReviewRefused

    done = refused = 0
    for contact_id in ids:
        try:
            click.echo(act(contact_id))
            done += 1
        except ReviewRefused as exc:
            click.echo(f"error: {exc}", err=True)
            refused += 1
    if bulk or len(ids) != 1:
        click.echo(f"{verb} {done}, refused {refused}")
    if not ids:
        click.echo("nothing to do: no message of that cadence is pending review", err=True)
    if refused:
        raise click.exceptions.Exit(1)


ALL = click.option("--all", "all_", is_flag=True, help="Every pending message of --cadence.")
CADENCE = click.option("--cadence", help="With --all: the cadence whose messages to act on.")
IDS = click.argument("ids", nargs=-1, type=click.IntRange(min=1))


class DurationParam(click.ParamType):
    name = "DURATION"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        if not is_duration(value):
            self.fail(f"{value!r} is not a duration (use 3d, 12h, 30m)", param, ctx)
        return parse_duration(value)


@click.command(name="review")
@click.option("--cadence", help="Only this cadence.")
@click.option(
    "--older-than", "older_than", type=DurationParam(), help="Only messages at least this old."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json: one object per message, with its intent_url, for scripts.",
)
@click.option("--serve", is_flag=True, help="Open the local review page instead of listing.")
@click.option(
    "--listen", help="With --serve: HOST:PORT (default review.listen; port 0 = any free)."
)
def review_command(
    cadence: str | None, older_than: timedelta | None, fmt: str, serve: bool, listen: str | None
) -> None:
    """List the messages waiting for review, with why each was generated.

    Each shows its id, the customer, cadence/step, the trigger (the purchase, or the post
    it answers, with its text), the text with its weighted length, its age, and the X Web
    Intent link that opens it ready to post. Pending messages older than review.expires
    expire.

    \b
    Examples:
      rapport review
      rapport review --cadence thank-first-purchase --older-than 1d
      rapport review --format json
      rapport review --serve            # the local page; open the link it prints
    """
    ctx = app()
    if serve:
        from engine.review.server import serve as serve_page

        serve_page(ctx, listen=listen)
        return
    if listen:
        raise click.UsageError("--listen goes with --serve")
    from engine.review.items import load_items

    now, _ = _prepare(ctx)
    before = now - older_than if older_than is not None else None
    with ctx.database.read() as session:
        items = load_items(session, cadence=cadence, planned_before=before, now=now)
    if fmt == "json":
        click.echo(json.dumps([item.as_json(now) for item in items], indent=2, ensure_ascii=False))
        return
    if not items:
        click.echo("The review queue is empty.")
        return
    for item in items:
        _show(item, now)
    click.echo(
        f"{len(items)} pending (rapport approve ID…, reject ID…, edit ID --text T;"
        f" expire after {format_duration(ctx.settings.review.expires)})"
    )


def _show(item: ReviewItem, now: datetime) -> None:
    who = f"@{item.handle}" + (f" ({printable(item.name)})" if item.name else "")
    age = _age(item.age(now).total_seconds())
    click.echo(f"#{item.id}  {who}  {item.cadence}/{item.step}  age {age}")
    if item.why is not None:
        said = f": {printable(item.why.summary)}" if item.why.summary else ""
        click.echo(f"    why:  {item.why.type} at {item.why.occurred_at:%Y-%m-%d %H:%M}Z{said}")
    click.echo(f"    text: {printable(item.text)}  [{item.weighted_length}/280]")
    click.echo(f"    post: {item.intent_url}")


@click.command(name="approve")
@IDS
@ALL
@CADENCE
def approve_command(ids: tuple[int, ...], all_: bool, cadence: str | None) -> None:
    """Approve messages: each is re-checked, then waits for a person to post it.

    A refused approval says why (opted out, suppressed, complained, a cap or min_gap now
    full, expired, too long…) and changes nothing. Prints the X Web Intent link to post
    each approved message; `rapport mark-sent ID --url URL` records the post.

    \b
    Examples:
      rapport approve 12 13
      rapport approve --all --cadence thank-first-purchase
    """
    from engine.review.queue import approve

    ctx = app()
    now, reviewer = _prepare(ctx)
    targets = _targets(ctx, ids, all_, cadence)

    def act(contact_id: int) -> str:
        item = approve(ctx.database, contact_id, reviewer=reviewer, now=now)
        return f"approved {item.id} @{item.handle}: post it at {item.intent_url}"

    _each(targets, act, "approved", bulk=all_)


@click.command(name="reject")
@IDS
@ALL
@CADENCE
@click.option("--reason", help="Why, kept with the message.")
@click.option("--stop", is_flag=True, help="Also end the enrolment: no later step follows.")
def reject_command(
    ids: tuple[int, ...], all_: bool, cadence: str | None, reason: str | None, stop: bool
) -> None:
    """Reject messages: they are never sent and never count for caps.

    The step counts as skipped, so the cadence's next step follows on schedule; with
    --stop the enrolment ends instead (and its other queued messages are withdrawn).

    \b
    Examples:
      rapport reject 12 --reason "customer is upset about a late order"
      rapport reject 12 --stop
      rapport reject --all --cadence winback --reason "campaign paused"
    """
    from engine.review.queue import reject

    ctx = app()
    now, reviewer = _prepare(ctx)
    targets = _targets(ctx, ids, all_, cadence)

    def act(contact_id: int) -> str:
        withdrawn = reject(
            ctx.database, contact_id, reviewer=reviewer, now=now, reason=reason, stop=stop
        )
        said = f"rejected {contact_id}" + (" and ended its enrolment" if stop else "")
        if withdrawn:
            said += f"; withdrew {', '.join(map(str, withdrawn))}"
        return said

    _each(targets, act, "rejected", bulk=all_)


@click.command(name="edit")
@click.argument("ids", nargs=-1, type=click.IntRange(min=1))
@click.option(
    "--text", required=True, help="The new text (with --all: {handle} for each recipient)."
)
@ALL
@CADENCE
def edit_command(ids: tuple[int, ...], text: str, all_: bool, cadence: str | None) -> None:
    """Change a pending message's text; it stays pending until approved.

    The text goes through the checks a generated text does: at most 280 weighted
    characters (links 23, emoji and most non-Latin characters 2), the recipient's
    @handle in it, no other @handle unless the step allows it.

    \b
    Examples:
      rapport edit 12 --text "@jane_doe thank you for your first order!"
      rapport edit --all --cadence thanks --text "@{handle} thanks for being with us"
    """
    from engine.review.queue import edit

    ctx = app()
    if all_ and HANDLE_PLACEHOLDER not in text:
        raise click.UsageError(
            "with --all, --text needs {handle}: each message mentions its own recipient"
        )
    now, reviewer = _prepare(ctx)
    targets = _targets(ctx, ids, all_, cadence)

    def act(contact_id: int) -> str:
        handle = _handle_of(ctx, contact_id)
        new = text.replace(HANDLE_PLACEHOLDER, handle)
        item = edit(ctx.database, contact_id, text=new, reviewer=reviewer, now=now)
        return f"edited {item.id} @{item.handle} [{item.weighted_length}/280]"

    _each(targets, act, "edited", bulk=all_)


def _handle_of(ctx: AppContext, contact_id: int) -> str:
    from engine.history.models import Contact, Customer

    with ctx.database.read() as session:
        contact = session.get(Contact, contact_id)
        customer = session.get(Customer, contact.customer_id) if contact else None
        return (customer.handle or "") if customer else ""


@click.command(name="mark-sent")
@click.argument("contact_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--url", required=True, help="The URL of the post the person made on X.")
def mark_sent_command(contact_id: int, url: str) -> None:
    """Record that a person posted an approved message; it becomes sent.

    The post id is taken from the URL; a URL that is not an X post is refused.

    \b
    Example:
      rapport mark-sent 12 --url https://x.com/acme/status/1790000000000000000
    """
    from engine.review.queue import ReviewRefused, mark_sent

    ctx = app()
    now, reviewer = _prepare(ctx)
    try:
        post_id = mark_sent(ctx.database, contact_id, url=url, reviewer=reviewer, now=now)
    except ReviewRefused as exc:
        raise RapportError(str(exc)) from None
    click.echo(f"sent {contact_id}: post {post_id}")


COMMANDS = [review_command, approve_command, reject_command, edit_command, mark_sent_command]
