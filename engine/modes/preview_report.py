"""The preview as a person reads it: a short summary first, then the table, then warnings.

A new user on a few thousand customers should see at a glance how many messages would go
out (by cadence, step and channel) and why the others would not; then the messages, with
the time each customer would see them on their own clock; then one line per kind of
warning with a count and two examples (`--warnings` lists every one). The json and csv
formats (engine/modes/output.py) are unchanged: scripts get every row and field.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.config import Settings
from engine.evaluation.records import DecisionRecord, json_safe
from engine.facts.loading import known_zone
from engine.history.db import Database
from engine.history.models import Customer
from engine.ledger.decisions import DecisionOutcome, Reason
from engine.messages import duplicate_texts
from engine.zones import zone

EXAMPLES = 2  # per kind of warning, unless --warnings asks for all


def reason_words(reason: str) -> str:
    """`quiet_hours` -> `quiet hours`: the stored word, readable."""
    return reason.replace("_", " ")


def summary_lines(decisions: Sequence[DecisionRecord], *, now: datetime) -> list[str]:
    """Messages by cadence, step and channel; then what is not sent, by reason."""
    planned = [d for d in decisions if d.outcome is DecisionOutcome.PLANNED]
    customers = len({d.customer_id for d in planned})
    lines = [f"{len(planned)} message(s) to {customers} customer(s) at {json_safe(now)}"]
    by_step: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for d in planned:
        by_step[(d.cadence, d.step or "")][d.channel or "-"] += 1
    width = max((len(f"{c} / {s}") for c, s in by_step), default=0)
    for (cadence, step), channels in sorted(by_step.items()):
        total = sum(channels.values())
        per_channel = ", ".join(f"{ch} {n}" for ch, n in sorted(channels.items()))
        lines.append(f"  {f'{cadence} / {step}':<{width}}  {total:>5}  ({per_channel})")
    not_sent = _not_sent(decisions)
    if not_sent:
        lines.append("not sent: " + "; ".join(not_sent))
    return lines


def _not_sent(decisions: Iterable[DecisionRecord]) -> list[str]:
    counts: dict[DecisionOutcome, Counter[str]] = defaultdict(Counter)
    for d in decisions:
        if d.outcome is not DecisionOutcome.PLANNED and d.step is not None:
            counts[d.outcome][d.reason] += 1
    words = {
        DecisionOutcome.DEFERRED: "waiting",
        DecisionOutcome.DROPPED: "dropped",
        DecisionOutcome.HELD_OUT: "held out",
        DecisionOutcome.SKIPPED: "skipped",
        DecisionOutcome.EXPIRED: "expired",
        DecisionOutcome.EXITED: "exited",
    }
    parts = []
    for outcome, word in words.items():
        reasons = counts.get(outcome)
        if not reasons:
            continue
        inside = ", ".join(
            f"{reason_words(r)} {n}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])
        )
        # "expired 14 (expired 14)" says nothing more: the breakdown only when it adds
        same = set(reasons) == {outcome.value}
        parts.append(f"{word} {sum(reasons.values())}" + ("" if same else f" ({inside})"))
    return parts


def customer_zones(db: Database, settings: Settings, external_ids: Iterable[str]) -> dict[str, str]:
    """Each customer's time zone (the config's default when theirs is missing or unknown)."""
    wanted = sorted(set(external_ids))
    zones: dict[str, str] = {}
    with db.read() as session:
        for start in range(0, len(wanted), 500):  # under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            query = select(Customer.external_id, Customer.timezone).where(
                Customer.external_id.in_(chunk)
            )
            for external_id, name in session.execute(query):
                zones[external_id] = known_zone(name, settings.timezone)
    return zones


def local_time(moment: datetime, timezone: str) -> str:
    """`2026-06-15 11:00 PDT`: when the customer would see it, on their own clock."""
    local = moment.astimezone(zone(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or timezone}"


def preview_table(
    rows: Sequence[dict[str, Any]],
    *,
    include_all: bool,
    now: datetime,
    zones: dict[str, str],
) -> Any:
    """Stacked cells, so the text stays readable in an 80-column terminal."""
    from rich.table import Table

    planned = sum(row["decision"] == DecisionOutcome.PLANNED for row in rows)
    table = Table(title=f"{planned} message(s) at {json_safe(now)}", show_lines=True)
    table.add_column("customer (local send time)", no_wrap=True)
    table.add_column("cadence / step", overflow="fold")
    table.add_column("text", overflow="fold", ratio=3)
    if include_all:
        table.add_column("decision", overflow="fold", ratio=1)
    for row in rows:
        handle = f"@{row['handle']}" if row["handle"] else "(no handle)"
        timezone = zones.get(row["customer_id"])
        sent = row["decision"] == DecisionOutcome.PLANNED
        when = f"\n{local_time(now, timezone)}" if sent and timezone else ""
        step = row["step"] or "(enrolment)"
        variant = f" [{row['variant']}]" if row["variant"] else ""
        length = "" if row["weighted_length"] is None else f", {row['weighted_length']}/280"
        channel = f"\n{row['channel']}{length}" if row["channel"] else ""
        cells = [
            f"{row['customer_id']}\n{handle}{when}",
            f"{row['cadence']}\n{step}{variant}{channel}",
            row["text"] or "",
        ]
        if include_all:
            detail = f": {row['detail']}" if row["detail"] else ""
            cells.append(f"{row['decision']}\n{reason_words(row['reason'])}{detail}")
        table.add_row(*cells)
    return table


@dataclass(frozen=True)
class PreviewWarning:
    kind: str  # one line per kind
    example: str  # one instance, as --warnings lists it
    advice: str  # what to do about the kind
    short: str = ""  # the instance in a few words, for the one-line summary

    @property
    def brief(self) -> str:
        return self.short or _short(self.example)


# What to do about a text the step cannot send yet, by reason.
TEXT_ADVICE = {
    Reason.TOO_LONG: "shorten the template or give the step a fallback",
    Reason.TEMPLATE_ERROR: "fix the template; the step waits until then",
    Reason.OTHER_MENTIONS: "remove the other @handles, or allow_mentions on the step",
    Reason.NO_HANDLE: "add the customer's X handle, or mention customer.handle in the template",
}


def preview_warnings(decisions: Sequence[DecisionRecord]) -> list[PreviewWarning]:
    """Everything a marketer should fix before sending, one entry per instance."""
    warnings: list[PreviewWarning] = []
    planned = [
        (d.handle, d.text)
        for d in decisions
        if d.outcome is DecisionOutcome.PLANNED and d.handle and d.text
    ]
    for group in duplicate_texts((f"@{h}", t) for h, t in planned):
        handles = sorted(group, key=str.lower)
        more = f" and {len(handles) - 2} more" if len(handles) > 2 else ""
        warnings.append(
            PreviewWarning(
                "identical texts",
                ", ".join(handles),
                "X refuses duplicate content; vary the template",
                short=", ".join(handles[:2]) + more,
            )
        )
    for d in decisions:
        where = f"{d.customer_external_id} ({d.cadence}/{d.step})"
        if d.reason in TEXT_ADVICE:
            warnings.append(
                PreviewWarning(
                    reason_words(d.reason),
                    f"{where}: {d.detail}" if d.detail else where,
                    TEXT_ADVICE[Reason(d.reason)],
                )
            )
        elif d.reason is Reason.EVALUATION_ERROR:
            warnings.append(
                PreviewWarning(
                    "evaluation errors",
                    f"{d.customer_external_id}: {d.detail}",
                    "the customer is tried again at the next evaluation",
                )
            )
    return warnings


def warning_lines(warnings: Sequence[PreviewWarning], *, every: bool = False) -> list[str]:
    """One line per kind: its count and two examples; `every` lists each instance."""
    kinds: dict[str, list[PreviewWarning]] = defaultdict(list)
    for w in warnings:
        kinds[w.kind].append(w)
    lines = []
    for kind, found in kinds.items():
        if every:
            lines.append(f"warning: {kind}: {len(found)} ({found[0].advice})")
            lines += [f"  {w.example}" for w in found]
            continue
        shown = "; ".join(w.brief for w in found[:EXAMPLES])
        more = f"; +{len(found) - EXAMPLES} more (--warnings lists all)" if len(found) > 2 else ""
        lines.append(f"warning: {kind}: {len(found)}, e.g. {shown}{more} ({found[0].advice})")
    return lines


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_preview(
    db: Database,
    settings: Settings,
    decisions: Sequence[DecisionRecord],
    *,
    rows: Sequence[dict[str, Any]],
    now: datetime,
    include_all: bool,
    every_warning: bool,
) -> None:
    """Summary, table, warnings: what `rapport preview` prints in its table format."""
    import click
    from rich.console import Console

    for line in summary_lines(decisions, now=now):
        click.echo(line)
    if rows:
        zones = customer_zones(db, settings, (row["customer_id"] for row in rows))
        Console(soft_wrap=False).print(
            preview_table(rows, include_all=include_all, now=now, zones=zones)
        )
    for line in warning_lines(preview_warnings(decisions), every=every_warning):
        click.echo(line)
