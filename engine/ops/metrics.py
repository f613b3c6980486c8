"""Prometheus metrics for the daemon, on `daemon.metrics` (HOST:PORT; absent: off).

Two kinds, so the numbers stay right across restarts:

- read from the database at each scrape (`LedgerCollector`): outbox by state, messages by
  cadence and state, the last run's decisions by cadence, outcome and reason, the review
  queue's size and oldest age, `unknown` messages, X budget left, POST attempts by HTTP
  status, the last run's customers evaluated, the heartbeat (running,
  last tick and its duration), reload failing, pauses. A restarted daemon reports the
  same figures as before;
- counted by the running daemon (`DaemonMetrics`): ticks, tick duration, customers
  evaluated per tick, HTTP errors from X by status, reload failures. Counters start at
  zero with the process, as Prometheus expects (`rate()` handles the reset).

The daemon calls, once at start:
    server = start_metrics_server(settings, db)   # None when daemon.metrics is absent
then `server.metrics.tick_done(seconds=..., evaluated=...)` after each tick,
`server.metrics.reload_failed()` on a refused reload, `server.metrics.http_error(status)`
when X answers with an error, and `server.close()` when it stops.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from engine import clock
from engine.config import Settings
from engine.history.db import Database
from engine.history.models import Contact, Decision, Run, XPostAttempt
from engine.ledger.states import ContactState
from engine.ops.status import Status, budget_left, daemon_health, paused_summary

PREFIX = "rapport"
TICK_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
CUSTOMER_BUCKETS = (0, 10, 100, 1_000, 10_000, 100_000, 1_000_000)


class LedgerCollector(Collector):
    """Reads the ledger at scrape time (engine/ops/status.py reads the same tables)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        yield from self._outbox(now)
        yield from self._decisions()
        yield from self._x(now)
        yield from self._daemon(now)

    def _outbox(self, now: datetime) -> Iterator[Metric]:
        with self.db.read() as session:
            rows = session.execute(
                select(Contact.cadence, Contact.channel, Contact.state, func.count()).group_by(
                    Contact.cadence, Contact.channel, Contact.state
                )
            ).all()
            oldest = session.scalar(
                select(func.min(Contact.planned_at)).where(
                    Contact.state == ContactState.PENDING_REVIEW.value
                )
            )
        by_state: dict[str, int] = {}
        messages = _gauge(
            "messages",
            "Messages in the ledger by cadence, channel and state.",
            ["cadence", "channel", "state"],
        )
        for cadence, channel, state, count in rows:
            messages.add_metric([cadence, channel, state], count)
            by_state[state] = by_state.get(state, 0) + count
        outbox = _gauge("outbox_messages", "Messages in the outbox by state.", ["state"])
        for state, count in sorted(by_state.items()):
            outbox.add_metric([state], count)
        yield messages
        yield outbox
        yield _value(
            "unknown_messages",
            "Messages X may have posted, waiting for reconciliation or `rapport resolve`.",
            by_state.get(ContactState.UNKNOWN.value, 0),
        )
        yield _value(
            "review_queue_pending",
            "Messages waiting for review.",
            by_state.get(ContactState.PENDING_REVIEW.value, 0),
        )
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield _value(
            "review_queue_oldest_age_seconds",
            "Age of the oldest message waiting for review (0 when none waits).",
            age,
        )

    def _decisions(self) -> Iterator[Metric]:
        """The last finished run's decisions: by its run id (indexed), never a scan of
        every decision kept, which may be months of them."""
        with self.db.read() as session:
            last = session.execute(
                select(Run.id, Run.counts)
                .where(Run.finished_at.is_not(None))
                .order_by(Run.id.desc())
                .limit(1)
            ).first()
            rows = session.execute(
                select(Decision.cadence, Decision.outcome, Decision.reason, func.count())
                .where(Decision.run_id == (last[0] if last else None))
                .group_by(Decision.cadence, Decision.outcome, Decision.reason)
            ).all()
        decisions = _gauge(
            "last_run_decisions",
            "The last finished run's decisions by cadence, outcome (planned, held_out, "
            "deferred, dropped…) and reason.",
            ["cadence", "outcome", "reason"],
        )
        for cadence, outcome, reason, count in rows:
            decisions.add_metric([cadence, outcome, reason], count)
        yield decisions
        last = last[1] if last else None
        evaluated = (last or {}).get("evaluated", 0)
        yield _value(
            "last_run_customers_evaluated",
            "Customers the last finished run evaluated.",
            evaluated,
        )

    def _x(self, now: datetime) -> Iterator[Metric]:
        budget = budget_left(self.db, self.settings, now=now)
        left = _gauge(
            "x_budget_left", "Posts X may still take in the current window.", ["window", "source"]
        )
        for window, values in budget["configured"].items():
            left.add_metric([window, "configured"], values["left"])
        for window, values in budget["reported_by_x"].items():
            if values["remaining"] is not None:
                left.add_metric([window, "x"], values["remaining"])
        yield left
        with self.db.read() as session:
            rows = session.execute(
                select(XPostAttempt.status_code, XPostAttempt.outcome, func.count()).group_by(
                    XPostAttempt.status_code, XPostAttempt.outcome
                )
            ).all()
        attempts = _gauge(
            "x_post_attempts",
            "POST /2/tweets attempts by HTTP status (none: no answer) and outcome.",
            ["status", "outcome"],
        )
        for status, outcome, count in rows:
            attempts.add_metric([str(status) if status else "none", outcome or "in_flight"], count)
        yield attempts

    def _daemon(self, now: datetime) -> Iterator[Metric]:
        status = Status(now)
        daemon, rules = daemon_health(self.db, self.settings, status, now=now)
        yield _value("daemon_up", "1 when the heartbeat says the daemon runs.", daemon["running"])
        if daemon.get("last_tick_at"):
            tick = datetime.fromisoformat(daemon["last_tick_at"].replace("Z", "+00:00"))
            yield _value(
                "daemon_last_tick_timestamp_seconds", "When the last tick ended.", tick.timestamp()
            )
        if daemon.get("last_tick_seconds") is not None:
            yield _value(
                "daemon_last_tick_duration_seconds",
                "How long the last tick took.",
                daemon["last_tick_seconds"],
            )
        yield _value(
            "rules_reload_failing",
            "1 while the last reload of the rules was refused.",
            bool(rules["last_reload_error"]),
        )
        paused = paused_summary(self.db)
        gauge = _gauge(
            "paused", "1 for each pause in force (cadence * = all sending).", ["cadence"]
        )
        if paused["all"]:
            gauge.add_metric(["*"], 1)
        for cadence in paused["cadences"]:
            gauge.add_metric([cadence], 1)
        yield gauge


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=labels)


def _value(name: str, documentation: str, value: float | bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=float(value))


class DaemonMetrics:
    """What only the running daemon knows; it calls these as things happen."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.ticks = Counter(f"{PREFIX}_ticks", "Evaluation ticks run.", registry=registry)
        self.tick_seconds = Histogram(
            f"{PREFIX}_tick_duration_seconds",
            "Duration of evaluation ticks.",
            buckets=TICK_BUCKETS,
            registry=registry,
        )
        self.evaluated = Histogram(
            f"{PREFIX}_tick_customers_evaluated",
            "Customers evaluated per tick.",
            buckets=CUSTOMER_BUCKETS,
            registry=registry,
        )
        self.http_errors = Counter(
            f"{PREFIX}_x_http_errors",
            "Error answers from X by HTTP status.",
            ["status"],
            registry=registry,
        )
        self.reload_failures = Counter(
            f"{PREFIX}_reload_failures",
            "Rules reloads refused (the last good rules ran on).",
            registry=registry,
        )

    def tick_done(self, *, seconds: float, evaluated: int) -> None:
        self.ticks.inc()
        self.tick_seconds.observe(seconds)
        self.evaluated.observe(evaluated)

    def http_error(self, status: int | str) -> None:
        self.http_errors.labels(status=str(status)).inc()

    def reload_failed(self) -> None:
        self.reload_failures.inc()


@dataclass
class MetricsServer:
    host: str
    port: int  # the real port (daemon.metrics may say 0: any free port)
    metrics: DaemonMetrics
    registry: CollectorRegistry
    _server: Any
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def build_registry(db: Database, settings: Settings) -> tuple[CollectorRegistry, DaemonMetrics]:
    """A registry of its own (not the process-wide default): tests and a reloaded daemon
    can build several without duplicate names."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(db, settings))
    return registry, DaemonMetrics(registry)


def start_metrics_server(settings: Settings, db: Database) -> MetricsServer | None:
    """Serve /metrics on `daemon.metrics` in a background thread; None when it is absent."""
    address = settings.daemon.metrics_address
    if address is None:
        return None
    host, port = address
    registry, metrics = build_registry(db, settings)
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(host, server.server_port, metrics, registry, server, thread)
