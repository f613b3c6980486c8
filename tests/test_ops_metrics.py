"""The Prometheus endpoint, scraped over HTTP on loopback: names and values against the
ledger, the daemon's own counters, and the same ledger figures after a restart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
from evaluation_helpers import STARTS, World, at, cadence, write_project
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from x_helpers import add_contact, add_customer

from engine import clock
from engine.config import Daemon, Settings
from engine.history.db import Database
from engine.history.models import Contact, Decision, XPostAttempt
from engine.ledger.states import Channel, ContactState
from engine.ops.metrics import start_metrics_server
from engine.ops.pause import pause

S = ContactState
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    body = httpx.get(url, timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def test_a_scrape_reports_the_ledger_and_the_daemon_counters(db: Database, tmp_path: Path) -> None:
    world = World(
        db,
        write_project(
            tmp_path,
            {
                "thanks": cadence(
                    "thanks", "event: purchase", "- name: hi\n  template: t.j2\n", STARTS
                )
            },
        ),
    )
    for n in range(3):
        world.event(world.customer(f"c{n}"), "purchase", at(0))
    world.run(at(0, hours=1))
    jane = add_customer(db, "jane_doe")
    sent = add_contact(db, jane, "@jane_doe a", state=S.SENT)
    add_contact(db, jane, "@jane_doe b", state=S.UNKNOWN)
    add_contact(db, jane, "@jane_doe c")
    with db.write() as session:
        now = clock.now()
        session.add(
            XPostAttempt(contact_id=sent, attempted_at=now, status_code=201, outcome="sent")
        )
        session.add(
            XPostAttempt(contact_id=sent, attempted_at=now, status_code=503, outcome="planned")
        )
    pause(db, cadence="thanks", now=clock.now())
    settings = Settings(daemon=Daemon("127.0.0.1:0"))

    server = start_metrics_server(settings, db)
    assert server is not None and server.port > 0
    try:
        server.metrics.tick_done(seconds=2.0, evaluated=3)
        server.metrics.tick_done(seconds=4.0, evaluated=5)
        server.metrics.reload_failed()
        server.metrics.http_error(503)
        samples = scrape(server.url)
    finally:
        server.close()

    with db.read() as session:
        ledger = Counter(
            (c, ch, st)
            for c, ch, st in session.execute(
                select(Contact.cadence, Contact.channel, Contact.state)
            )
        )
        decisions = Counter(  # one run so far: the last run's decisions are all of them
            (c, o, r)
            for c, o, r in session.execute(
                select(Decision.cadence, Decision.outcome, Decision.reason)
            )
        )
    messages = {
        (dict(labels)["cadence"], dict(labels)["channel"], dict(labels)["state"]): value
        for (name, labels), value in samples.items()
        if name == "rapport_messages"
    }
    assert messages == {key: float(count) for key, count in ledger.items()}
    assert messages[("thanks", Channel.REVIEW.value, S.PENDING_REVIEW.value)] == 3
    by_state: Counter[str] = Counter()
    for (_, _, state), count in ledger.items():
        by_state[state] += count
    for state, count in by_state.items():
        assert samples[("rapport_outbox_messages", (("state", state),))] == count
    kept = {
        (dict(labels)["cadence"], dict(labels)["outcome"], dict(labels)["reason"]): value
        for (name, labels), value in samples.items()
        if name == "rapport_last_run_decisions"
    }
    assert kept == {key: float(count) for key, count in decisions.items()} and kept
    assert samples[("rapport_unknown_messages", ())] == 1
    assert samples[("rapport_review_queue_pending", ())] == 3
    oldest_age = (clock.now() - at(0, hours=1)).total_seconds()  # the run's planned_at
    assert abs(samples[("rapport_review_queue_oldest_age_seconds", ())] - oldest_age) < 60
    assert samples[("rapport_last_run_customers_evaluated", ())] == 3
    assert samples[("rapport_x_budget_left", (("source", "configured"), ("window", "15m")))] == 98
    assert samples[("rapport_x_post_attempts", (("outcome", "sent"), ("status", "201")))] == 1
    assert samples[("rapport_x_post_attempts", (("outcome", "planned"), ("status", "503")))] == 1
    assert samples[("rapport_paused", (("cadence", "thanks"),))] == 1
    assert samples[("rapport_daemon_up", ())] == 0  # no heartbeat in this database
    assert samples[("rapport_rules_reload_failing", ())] == 0
    # The daemon's own counters.
    assert samples[("rapport_ticks_total", ())] == 2
    assert samples[("rapport_tick_duration_seconds_sum", ())] == 6.0
    assert samples[("rapport_tick_duration_seconds_count", ())] == 2
    assert samples[("rapport_tick_customers_evaluated_sum", ())] == 8
    assert samples[("rapport_reload_failures_total", ())] == 1
    assert samples[("rapport_x_http_errors_total", (("status", "503"),))] == 1

    # A restarted daemon: counters start again, ledger figures are the same.
    again = start_metrics_server(settings, db)
    assert again is not None
    try:
        after = scrape(again.url)
    finally:
        again.close()
    assert after[("rapport_ticks_total", ())] == 0
    for name in ("rapport_messages", "rapport_outbox_messages", "rapport_last_run_decisions"):
        assert {k: v for k, v in after.items() if k[0] == name} == {
            k: v for k, v in samples.items() if k[0] == name
        }


def test_no_metrics_address_means_no_endpoint(db: Database) -> None:
    assert start_metrics_server(Settings(), db) is None
