"""Preview and simulation rows and their three formats: a rich table, JSON, CSV; and the
lines around a simulation's table (its grand total, the note before a long one)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.evaluation.records import DecisionRecord, json_safe
from engine.evaluation.summary import Summary
from engine.ledger.decisions import DecisionOutcome
from engine.messages import duplicate_texts

COLUMNS = (
    "customer_id",
    "handle",
    "cadence",
    "step",
    "variant",
    "send_at",
    "text",
    "weighted_length",
    "channel",
    "decision",
    "reason",
)


def preview_rows(decisions: Sequence[DecisionRecord], *, include_all: bool) -> list[dict[str, Any]]:
    """One row per planned message; with `include_all`, one per other decision too."""
    rows = []
    for d in decisions:
        if d.outcome is not DecisionOutcome.PLANNED and not include_all:
            continue
        rows.append(
            {
                "customer_id": d.customer_external_id,
                "handle": d.handle,
                "cadence": d.cadence,
                "step": d.step,
                "variant": d.variant,
                "send_at": json_safe(d.decided_at)
                if d.outcome is DecisionOutcome.PLANNED
                else None,
                "text": d.text or None,
                "weighted_length": d.weighted_length,
                "channel": d.channel or None,
                "decision": d.outcome,
                "reason": d.reason,
                "detail": d.detail,
            }
        )
    return rows


def as_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), indent=2, ensure_ascii=False)


def as_csv(rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, "detail"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def as_table(rows: Sequence[dict[str, Any]], *, include_all: bool, now: datetime) -> Any:
    """Three or four stacked columns, so the text stays readable in an 80-column terminal.

    Every message of one evaluation goes out at its time, so send_at sits in the title.
    """
    planned = sum(row["decision"] == DecisionOutcome.PLANNED for row in rows)
    title = f"preview at {json_safe(now)} (send_at): {planned} message(s)"
    return _table(rows, title=title, include_all=include_all, send_at=False)


def simulation_table(
    rows: Sequence[dict[str, Any]], *, start: datetime, end: datetime, every: str
) -> Any:
    """The messages of a whole simulation, each with its send_at, under a title line for
    the window (a line of its own: a narrow table would wrap it)."""
    from rich.console import Group

    planned = sum(row["decision"] == DecisionOutcome.PLANNED for row in rows)
    title = (
        f"simulation {json_safe(start)} to {json_safe(end)}, every {every}: {planned} message(s)"
    )
    return Group(title, _table(rows, title=None, include_all=False, send_at=True))


def simulation_total(summaries: Sequence[Summary]) -> str:
    """The grand total under the per-evaluation lines."""
    if not summaries:
        return "total over 0 evaluations"
    total = Summary(summaries[0].now)
    for summary in summaries:
        total.merge(summary)
    return f"total over {len(summaries)} evaluations: {total.counts_text()}"


# From this many evaluations on, simulate says how many before it starts: at a few
# milliseconds to a second each, the user should know what --every 1m over a month costs.
LONG_SIMULATION = 10_000


def evaluation_count(start: datetime, end: datetime, every: timedelta) -> int:
    return (end - start) // every + 1


def simulation_note(start: datetime, end: datetime, every: timedelta, written: str) -> str | None:
    count = evaluation_count(start, end, every)
    if count < LONG_SIMULATION:
        return None
    return (
        f"note: about to run {count:,} evaluations (every {written} from {json_safe(start)}"
        f" to {json_safe(end)}); a longer --every runs fewer"
    )


def _table(
    rows: Sequence[dict[str, Any]], *, title: str | None, include_all: bool, send_at: bool
) -> Any:
    from rich.table import Table

    table = Table(title=title, show_lines=True)
    table.add_column("customer", no_wrap=True)
    table.add_column("cadence / step", overflow="fold")
    table.add_column("text", overflow="fold", ratio=3)
    if include_all:
        table.add_column("decision", overflow="fold", ratio=1)
    for row in rows:
        handle = f"@{row['handle']}" if row["handle"] else "(no handle)"
        step = row["step"] or "(enrolment)"
        variant = f" [{row['variant']}]" if row["variant"] else ""
        length = "" if row["weighted_length"] is None else f", {row['weighted_length']}/280"
        channel = f"\n{row['channel']}{length}" if row["channel"] else ""
        when = f"\n{row['send_at']}" if send_at and row["send_at"] else ""
        cells = [
            f"{row['customer_id']}\n{handle}{when}",
            f"{row['cadence']}\n{step}{variant}{channel}",
            row["text"] or "",
        ]
        if include_all:
            detail = f": {row['detail']}" if row["detail"] else ""
            cells.append(f"{row['decision']}\n{row['reason']}{detail}")
        table.add_row(*cells)
    return table


def duplicate_warnings(rows: Sequence[dict[str, Any]]) -> list[str]:
    """X refuses identical posts: name the recipients whose planned texts are the same."""
    messages = [
        (row["handle"], row["text"])
        for row in rows
        if row["decision"] == DecisionOutcome.PLANNED and row["handle"] and row["text"]
    ]
    return [
        "identical text for "
        + ", ".join(f"@{h}" for h in sorted(group, key=str.lower))
        + " (X refuses duplicate content; vary the template)"
        for group in duplicate_texts(messages)
    ]
