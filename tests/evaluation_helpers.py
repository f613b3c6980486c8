"""Small real projects for evaluation tests: rules and templates in tmp_path, rows in SQLite."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from engine.config import Settings, load_settings
from engine.history.db import Database
from engine.history.models import Contact, Customer, Enrolment, Event
from engine.modes import EvaluationOptions, RecordingSink, Summary, preview, run_once

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC
TABLES = (
    "customers",
    "events",
    "enrolments",
    "contacts",
    "decisions",
    "suppressions",
    "runs",
    "cadence_launches",
)
PLAIN_TEMPLATE = "@{{ customer.handle }} {{ cadence }}/{{ step }} for {{ customer.name }}"
STARTS = "starts: 2026-01-01T00:00:00Z\n"  # go-live before every test's history
ONE_STEP = "- name: only\n  template: t.j2\n"


def at(days: float = 0, **delta: float) -> datetime:
    return T0 + timedelta(days=days, **delta)


def write_project(
    root: Path,
    rules: dict[str, str],
    *,
    config: str = "timezone: UTC\n",
    templates: dict[str, str] | None = None,
) -> Path:
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "config.yaml").write_text(textwrap.dedent(config))
    for name, body in rules.items():
        (root / "rules" / f"{name}.yaml").write_text(textwrap.dedent(body))
    for name, body in (templates or {"t.j2": PLAIN_TEMPLATE}).items():
        (root / "templates" / name).write_text(body)
    return root


def cadence(name: str, trigger: str, steps: str, extra: str = "", channel: str = "review") -> str:
    """A cadence file; `trigger` and `steps` are YAML fragments (steps as list items)."""
    return (
        f"version: 1\ncadence: {name}\ndescription: test\naudience: everyone\n"
        f"priority: 50\nchannel: {channel}\ntrigger:\n{_indent(trigger)}\n{extra}"
        f"steps:\n{_indent(steps)}\n"
    )


def _indent(block: str) -> str:
    return textwrap.indent(textwrap.dedent(block).strip("\n"), "  ")


@dataclass
class World:
    """A database plus a project; helpers to add history and to evaluate."""

    db: Database
    project: Path
    _ids: Any = field(default_factory=lambda: count(1))

    @property
    def settings(self) -> Settings:
        return load_settings(self.project / "config.yaml")

    def customer(
        self,
        external_id: str = "c1",
        *,
        handle: str | None = None,
        timezone: str = "UTC",
        kind: str = "customer",
        consent_at: datetime | None = None,
        **attributes: Any,
    ) -> int:
        handle = handle if handle is not None else f"h_{external_id}"
        with self.db.write() as session:
            row = Customer(
                external_id=external_id,
                handle=handle or None,
                handle_key=handle.lower() if handle else None,
                name=f"Name {external_id}",
                timezone=timezone,
                kind=kind,
                consent_at=consent_at,
                attributes=attributes,
            )
            session.add(row)
            session.flush()
            return row.id

    def event(self, customer_id: int, type_: str, when: datetime, **properties: Any) -> int:
        with self.db.write() as session:
            row = Event(
                customer_id=customer_id,
                type=type_,
                occurred_at=when,
                properties=properties,
                external_id=f"e{next(self._ids)}",
            )
            session.add(row)
            session.flush()
            return row.id

    def run(self, when: datetime) -> Summary:
        return run_once(self.db, self.settings, now=when)

    def preview(self, when: datetime, **options: Any) -> RecordingSink:
        return preview(self.db, self.settings, now=when, options=EvaluationOptions(**options))[1]

    def contacts(self) -> list[tuple[str, str, str, datetime]]:
        """(customer external id, cadence, step, planned_at) of every ledger row."""
        with self.db.read() as session:
            rows = session.execute(
                select(Customer.external_id, Contact.cadence, Contact.step, Contact.planned_at)
                .join(Customer, Customer.id == Contact.customer_id)
                .order_by(Contact.id)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def enrolments(self) -> list[tuple[str, datetime, str, int]]:
        """(cadence, entered_at, state, step_reached) of every enrolment."""
        with self.db.read() as session:
            rows = session.execute(
                select(
                    Enrolment.cadence, Enrolment.entered_at, Enrolment.state, Enrolment.step_reached
                ).order_by(Enrolment.id)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def decisions(self) -> list[tuple[str | None, str, str]]:
        with self.db.read() as session:
            rows = session.execute(text("SELECT step, outcome, reason FROM decisions ORDER BY id"))
            return [tuple(row) for row in rows]  # type: ignore[misc]

    def row_counts(self) -> dict[str, int]:
        with self.db.read() as session:
            return {
                table: session.execute(select(func.count()).select_from(text(table))).scalar_one()
                for table in TABLES
            }
