"""Preview rows and their three formats: a rich table, JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.evaluation.records import DecisionRecord, json_safe
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
    from rich.table import Table

    planned = sum(row["decision"] == DecisionOutcome.PLANNED for row in rows)
    table = Table(
        title=f"preview at {json_safe(now)} (send_at): {planned} message(s)",
        show_lines=True,
    )
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
        cells = [
            f"{row['customer_id']}\n{handle}",
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
