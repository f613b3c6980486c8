"""Demo history: deterministic, importable as is, and shaped to give the sample cadences work."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.clock import parse_time
from engine.demo_data import generate, write_files
from engine.history.db import Database
from engine.history.importing import import_customers, import_events

RunCli = Callable[..., tuple[int, str, str]]

END = datetime(2026, 6, 15, tzinfo=UTC)
EVENT_TYPES = {"purchase", "mention", "quote", "reply", "complaint", "opt_out", "keyword"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = write_files(tmp_path / "a", customers=300, seed=7, end=END)
    b = write_files(tmp_path / "b", customers=300, seed=7, end=END)
    c = write_files(tmp_path / "c", customers=300, seed=8, end=END)
    assert digest(a.events_file) == digest(b.events_file) != digest(c.events_file)
    assert digest(a.customers_file) == digest(b.customers_file) != digest(c.customers_file)


def test_history_is_realistic_and_has_work_at_the_end() -> None:
    demo = list(generate(customers=2000, seed=7, end=END))
    rows = [d.row for d in demo]
    events = [(d.row, e) for d in demo for e in d.events]
    assert {e["type"] for _, e in events} == EVENT_TYPES
    times = [parse_time(e["occurred_at"]) for _, e in events]
    assert END - timedelta(days=550) < min(times) and max(times) < END
    assert 0.07 < Counter(r["kind"] for r in rows)["prospect"] / len(rows) < 0.13
    zones = {r.get("timezone") for r in rows}
    assert {"Asia/Kathmandu", "Australia/Lord_Howe", "America/Los_Angeles", "Europe/Paris",
            "Asia/Tokyo"} <= zones  # fmt: skip
    assert any("🌸" in r["name"] for r in rows) and any(len(r["name"]) > 60 for r in rows)
    assert rows[0]["id"] == "000001"
    assert any("stop" in e["text"].lower() for _, e in events if e["type"] == "reply")
    assert all(len(e["post_id"]) == 19 for _, e in events if "post_id" in e)
    x_events = [e for _, e in events if "post_id" in e]
    assert all({"text", "url", "author_id", "conversation_id"} <= e.keys() for e in x_events)
    about_competitor = [(r, e) for r, e in events if e.get("about") == "competitor"]
    assert {r["kind"] for r, _ in about_competitor} == {"prospect"}
    assert all(e["term"] in e["text"] for _, e in events if e["type"] == "keyword")

    def purchases(d: object) -> list[datetime]:
        return [parse_time(e["occurred_at"]) for e in d.events if e["type"] == "purchase"]  # type: ignore[attr-defined]

    first_buyers = [d for d in demo if (p := purchases(d)) and timedelta(days=2) <= END - min(p)
                    <= timedelta(days=3)]  # fmt: skip
    lapsed = [d for d in demo if len(p := purchases(d)) >= 2 and timedelta(days=120) <= END - max(p)
              <= timedelta(days=200)]  # fmt: skip
    fresh_mentions = [e for _, e in events if e["type"] == "mention"
                      and END - parse_time(e["occurred_at"]) <= timedelta(hours=1)]  # fmt: skip
    assert len(first_buyers) >= 20 and len(lapsed) >= 50 and len(fresh_mentions) >= 20


def test_demo_files_import_without_rejects(db: Database, tmp_path: Path) -> None:
    files = write_files(tmp_path, customers=400, seed=3, end=END)
    assert import_customers(db, files.customers_file).rejected == 0
    summary = import_events(db, files.events_file)
    assert (summary.inserted, summary.rejected) == (files.events, 0)


def test_demo_data_command(tmp_path: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("demo-data", "--customers", "50", "--seed", "7", "--out", "demo")
    assert (code, err) == (0, "")
    assert out.startswith("wrote 50 customers to demo/customers.csv and ")
    again = write_files(tmp_path / "again", customers=50, seed=7, end=END)
    assert digest(tmp_path / "demo" / "events.csv") == digest(again.events_file)
    code, _, err = run_cli("demo-data", "--end", "June 15")
    assert code == 2 and "'June 15' is not a time" in err


def test_planted_campaigns_are_deterministic_and_leave_the_history_alone(tmp_path: Path) -> None:
    plain = write_files(tmp_path / "plain", customers=300, seed=7, end=END)
    a = write_files(tmp_path / "a", customers=300, seed=7, end=END, planted_lift=0.05)
    b = write_files(tmp_path / "b", customers=300, seed=7, end=END, planted_lift=0.05)
    assert digest(plain.events_file) == digest(a.events_file)
    assert plain.planted is None and a.planted is not None and b.planted is not None
    assert digest(a.planted.contacts_file) == digest(b.planted.contacts_file)
    assert digest(a.planted.responses_file) == digest(b.planted.responses_file)
    rows = a.planted.contacts_file.read_text().splitlines()
    groups = Counter(line.split(",")[5] for line in rows[1:])
    assert set(groups) == {"treatment", "holdout", "global_holdout"}
    assert 0.08 < (groups["holdout"] + groups["global_holdout"]) / sum(groups.values()) < 0.25
    # Nothing planted near the end: the demo's cadences keep their work at `end`.
    last = max(parse_time(line.split(",")[3]) for line in rows[1:])
    assert last < END - timedelta(days=180)


def test_demo_data_with_a_planted_lift_ends_in_a_report(tmp_path: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli(
        "demo-data", "--customers", "400", "--out", "d", "--planted-lift", "6%", "--end",
        "2026-06-15",
    )  # fmt: skip
    assert code == 0, err
    assert "past contacts to d/contacts.csv" in out
    for command in (
        ("import", "customers", "d/customers.csv"),
        ("import", "events", "d/events.csv"),
        ("import", "contacts", "d/contacts.csv"),
        ("import", "events", "d/responses.csv", "--source", "planted"),
    ):
        code, out, err = run_cli(*command)
        assert code == 0, err
    code, out, err = run_cli("report")
    assert code == 0, err
    assert "win-back" in out and "spring-sale" in out and "Newcombe" in out
    code, _, err = run_cli("demo-data", "--planted-lift", "six")
    assert code == 2 and "'six' is not a percentage" in err
