"""Crash-test kit for `rapport daemon` as a real process: a project on a real SQLite file,
start / wait for a log line / kill / restart, and ledger inspection.

The daemon logs one JSON object per line (`--log-format json`) to a file per start, so a
test waits for events by name instead of sleeping. History is written straight into the
database with times on the real clock (the daemon evaluates at the real `now`).

Built to be extended: delivery-side crash tests add the stand-in X API to `DaemonProject`
(its base_url in config.yaml, its token in `env`) and their own ledger checks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import text

from engine.history.db import Database
from engine.history.models import Customer, Event

ROOT = Path(__file__).resolve().parent.parent
DAEMON = [sys.executable, "-m", "engine", "daemon", "--log-format", "json"]
FAST_SCHEDULE = "schedule: {evaluate_every: 1s, deliver_every: 1s, poll_x_every: 1s}\n"
CONFIG = "timezone: UTC\n" + FAST_SCHEDULE
TEMPLATE = "@{{ customer.handle }} thanks, {{ customer.name }} ({{ cadence }}) v1"
# Every mention gets one reply (reentry: always, one step resolved at once; a mention is
# answered once per burst, so tests mention each customer at most once per tick); a
# customer with two purchases enters `loyal`, whose `when` enrolment begins at the
# evaluation that sees it: the case the ledger's key alone cannot dedupe.
MENTION_RULE = """\
version: 1
cadence: thanks-for-mention
description: Thank every mention.
audience: everyone
priority: 60
starts: 2020-01-01T00:00:00Z
trigger:
  event: mention
reentry: always
steps:
  - name: thanks
    template: t.j2
"""
LOYAL_RULE = """\
version: 1
cadence: loyal
description: Welcome people who mention us twice.
audience: everyone
priority: 40
trigger:
  when: count(purchase) >= 2
steps:
  - name: welcome
    template: t.j2
"""


def real_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DaemonProcess:
    """One start of `rapport daemon`; its log lines are JSON objects in `log`."""

    popen: subprocess.Popen[bytes]
    log: Path

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                found.append({"event": "not_json", "message": line})
        return found

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("event") == event]

    def wait_for(
        self,
        event: str,
        *,
        where: Callable[[dict[str, Any]], bool] = lambda e: True,
        after: int = 0,
        timeout: float = 60,
    ) -> dict[str, Any]:
        """The first `event` past the first `after` of its kind that satisfies `where`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            matching = [e for e in self.named(event)[after:] if where(e)]
            if matching:
                return matching[0]
            if self.popen.poll() is not None:
                raise AssertionError(f"daemon exited {self.popen.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        raise AssertionError(f"no {event!r} within {timeout}s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no cleanup, no commit, like a power cut."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 10) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds it took)."""
        started = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        code = self.popen.wait(timeout=timeout)
        return code, time.monotonic() - started

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class DaemonProject:
    """A project folder (config, rules, templates) and its SQLite database."""

    root: Path
    rules: dict[str, str] = field(default_factory=lambda: {"mention": MENTION_RULE})
    config: str = CONFIG
    template: str = TEMPLATE
    _starts: Any = field(default_factory=lambda: count(1))
    _events: Any = field(default_factory=lambda: count(1))

    def __post_init__(self) -> None:
        (self.root / "rules").mkdir(parents=True, exist_ok=True)
        (self.root / "templates").mkdir(exist_ok=True)
        (self.root / "config.yaml").write_text(self.config)
        for name, body in self.rules.items():
            self.write_rule(name, body)
        (self.root / "templates" / "t.j2").write_text(self.template)
        self.db = Database.open(self.db_url)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'rapport.db'}"

    def write_rule(self, name: str, body: str) -> None:
        (self.root / "rules" / f"{name}.yaml").write_text(textwrap.dedent(body))

    def start(
        self, *args: str, env: dict[str, str] | None = None, batch_size: int = 10
    ) -> DaemonProcess:
        log = self.root / f"daemon-{next(self._starts)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [*DAEMON, "--batch-size", str(batch_size), *args],
                cwd=self.root,
                env={
                    **{k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")},
                    "PYTHONPATH": str(ROOT),
                    "RAPPORT_DATABASE_URL": self.db_url,
                    **(env or {}),
                },
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
        return DaemonProcess(popen, log)

    # -- history ------------------------------------------------------------------------

    def customers(self, n: int) -> list[int]:
        """`n` new customers c<k>, h<k>, numbered after those already there."""
        with self.db.write() as session:
            first = session.scalar(text("SELECT count(*) FROM customers")) or 0
            rows = [
                Customer(
                    external_id=f"c{i}",
                    handle=f"h{i}",
                    handle_key=f"h{i}",
                    name=f"Name {i}",
                    timezone="UTC",
                    kind="customer",
                    attributes={},
                )
                for i in range(first, first + n)
            ]
            session.add_all(rows)
            session.flush()
            return [row.id for row in rows]

    def mention(self, customer_id: int, ago: timedelta = timedelta(0)) -> None:
        self.event(customer_id, "mention", ago)

    def event(self, customer_id: int, type_: str, ago: timedelta = timedelta(0)) -> None:
        number = next(self._events)
        with self.db.write() as session:
            session.add(
                Event(
                    customer_id=customer_id,
                    type=type_,
                    occurred_at=real_now() - ago,
                    properties={"post_id": str(number), "text": "hi @acme"},
                    external_id=f"m{number}",
                    seq=number,
                )
            )

    # -- the ledger ---------------------------------------------------------------------

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.db.read() as session:
            return [tuple(r) for r in session.execute(text(sql))]

    def contact_count(self) -> int:
        return int(self.rows("SELECT count(*) FROM contacts")[0][0])

    def wait_for_contacts(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.contact_count() < n:
            assert time.monotonic() < deadline, f"{self.contact_count()} contacts, not {n}"
            time.sleep(0.1)


def assert_ledger_consistent(project: DaemonProject) -> None:
    """No duplicate key or enrolment; every mention thanked once; `loyal` once per customer
    with two purchases or more; each contact belongs to an enrolment of its customer."""
    assert (
        project.rows(
            "SELECT idempotency_key FROM contacts GROUP BY idempotency_key HAVING count(*) > 1"
        )
        == []
    )
    assert (
        project.rows(
            "SELECT customer_id, cadence, entered_at FROM enrolments"
            " GROUP BY customer_id, cadence, entered_at HAVING count(*) > 1"
        )
        == []
    )
    mentions = dict(
        project.rows(
            "SELECT customer_id, count(*) FROM events WHERE type = 'mention' GROUP BY customer_id"
        )
    )
    thanked = dict(
        project.rows(
            "SELECT customer_id, count(*) FROM contacts"
            " WHERE cadence = 'thanks-for-mention' GROUP BY customer_id"
        )
    )
    assert thanked == mentions
    purchases = project.rows(
        "SELECT customer_id FROM events WHERE type = 'purchase'"
        " GROUP BY customer_id HAVING count(*) >= 2"
    )
    loyal = project.rows(
        "SELECT customer_id, count(*) FROM contacts WHERE cadence = 'loyal' GROUP BY customer_id"
    )
    if "loyal" in project.rules:
        assert dict(loyal) == {c: 1 for (c,) in purchases}
    assert (
        project.rows(
            "SELECT c.id FROM contacts c JOIN enrolments e ON e.id = c.enrolment_id"
            " WHERE e.customer_id != c.customer_id OR e.cadence != c.cadence"
        )
        == []
    )
