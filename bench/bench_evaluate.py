"""Benchmark: a full evaluation of N customers x 10 events, preview mode and run mode.

Prints customers/s for each mode, in one process and with one process per core (full
passes use every core), the ratio against a bare durable_rules loop over the
same facts (one process, measured in the same run), and the peak RSS of each measurement
(for the all-core rows, the parent's; each worker's is about the one-process figure). Each
measurement runs in its own process, so peak RSS is that mode's own and can be compared
across customer counts (it must stay flat: customers are streamed in batches).

    python bench/bench_evaluate.py                      # 20k and 100k customers
    python bench/bench_evaluate.py --customers 5000     # a quick look

The bare loop is measured here directly (durable_rules may be imported by one engine
module only; a bench script is not the engine). It posts, per customer, every event and
one customer fact with its aggregates to a ruleset holding the sample rules' trigger
conditions, then deletes the customer's state: the matching work and nothing else.
The engine is timed end to end (SQL reads, facts, matching, policy, rendering, writes in
run mode); the bare loop only for posting. The rules, templates and config.yaml are the
repository's own, copied to a temporary project with their `starts:` lines removed, so
every cadence is live since before the history began (cadence_launches) and the engine
considers the whole history, like the bare loop.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 6, 15, 18, 0, tzinfo=UTC)
EVENTS_PER_CUSTOMER = 10
ZONES = ("America/Los_Angeles", "Europe/Paris", "Asia/Tokyo", "UTC", "Asia/Kathmandu")
PRODUCTS = ("coffee beans", "grinder", "mug", "kettle", "filter papers")
EVENT_TYPES = ("purchase",) * 5 + ("mention", "mention", "reply", "quote", "complaint")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build_database(path: Path, customers: int, seed: int = 7) -> None:
    """Migrated schema, then rows inserted in chunks with executemany (no ORM)."""
    from engine.history.db import Database

    Database.open(f"sqlite:///{path}").dispose()
    rng = random.Random(seed)
    connection = sqlite3.connect(path)
    created = _stamp(NOW - timedelta(days=500))
    chunk = 5_000
    for start in range(1, customers + 1, chunk):
        ids = range(start, min(start + chunk, customers + 1))
        connection.executemany(
            "INSERT INTO customers (id, external_id, handle, handle_key, name, timezone, kind,"
            " consent_at, attributes, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [_customer_row(i, rng, created) for i in ids],
        )
        connection.executemany(
            "INSERT INTO events (customer_id, type, occurred_at, properties, external_id, source,"
            " seq) VALUES (?,?,?,?,?,?,0)",
            [row for i in ids for row in _event_rows(i, rng)],
        )
        connection.commit()
    # Every sample cadence went live before the history began, so all of it counts.
    connection.executemany(
        "INSERT INTO cadence_launches (cadence, first_seen_at) VALUES (?, ?)",
        [
            (name, _stamp(NOW - timedelta(days=450)))
            for name in ("thank-first-purchase", "mention-reply", "win-back")
        ],
    )
    connection.commit()
    connection.close()


def _customer_row(i: int, rng: random.Random, created: str) -> tuple[Any, ...]:
    attributes = {
        "city": rng.choice(("Lyon", "Osaka", "Austin", "Pune")),
        "tier": rng.choice(("bronze", "silver", "gold")),
        "favorite_product": rng.choice(PRODUCTS),
        "birthday": f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }
    handle = f"cust{i}"
    return (
        i,
        f"C{i:07d}",
        handle,
        handle,
        f"Customer {i}",
        rng.choice(ZONES),
        "customer",
        created,
        json.dumps(attributes),
        created,
        created,
    )


def _event_rows(customer: int, rng: random.Random) -> list[tuple[Any, ...]]:
    rows = []
    for k in range(EVENTS_PER_CUSTOMER):
        kind = rng.choice(EVENT_TYPES)
        occurred = NOW - timedelta(seconds=rng.randint(0, 400 * 86400))
        if kind == "purchase":
            props: dict[str, Any] = {
                "amount": round(rng.uniform(5, 120), 2),
                "product": rng.choice(PRODUCTS),
                "order_id": f"o{customer}-{k}",
            }
        else:
            props = {"post_id": f"{customer}{k:02d}", "text": "love it @acme"}
        rows.append(
            (customer, kind, _stamp(occurred), json.dumps(props), f"b{customer}-{k}", "bench")
        )
    return rows


class CountingSink:
    """Preview mode for a benchmark: nothing written, and nothing kept but the counts
    (the CLI's preview keeps every row to print it; 100k customers would be a big table)."""

    def __init__(self) -> None:
        self.contacts = 0
        self.decisions = 0

    def begin(self, now: datetime, mode: str, rules_hash: str) -> None:
        pass

    def apply(self, changes: Any) -> None:
        self.contacts += len(changes.contacts)
        self.decisions += len(changes.decisions)

    def finish(self, counts: dict[str, Any]) -> None:
        pass


def bench_project(folder: Path) -> Path:
    """The repository's config, rules and templates, with go-live left to cadence_launches."""
    folder.mkdir()
    shutil.copy(ROOT / "config.yaml", folder / "config.yaml")
    shutil.copytree(ROOT / "templates", folder / "templates")
    (folder / "rules").mkdir()
    for rule in (ROOT / "rules").glob("*.yaml"):
        lines = rule.read_text().splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith("starts:")]
        (folder / "rules" / rule.name).write_text("".join(kept))
    return folder / "config.yaml"


def measure_engine(path: Path, mode: str, workers: int) -> dict[str, Any]:
    from engine.config import load_settings
    from engine.history.db import Database
    from engine.modes import DatabaseSink, EvaluationOptions, evaluate_at

    settings = load_settings(bench_project(path.parent / f"project-{mode}-{workers}"))
    db = Database.open(f"sqlite:///{path}", upgrade=False)
    sink: Any = DatabaseSink(db) if mode == "run" else CountingSink()
    started = time.perf_counter()
    options = EvaluationOptions(workers=workers)
    summary = evaluate_at(db, settings, now=NOW, sink=sink, mode=mode, options=options)
    elapsed = time.perf_counter() - started
    return {
        "mode": mode if workers == 1 else f"{mode} x{workers}",
        "customers": summary.evaluated,
        "seconds": elapsed,
        "customers_per_s": summary.evaluated / elapsed,
        "planned": sum(summary.planned.values()),
        "decisions": summary.decisions,
    }


def measure_bare_durable(path: Path | str) -> dict[str, Any]:
    """The same facts (loaded and built untimed), posted to durable_rules: timed.

    `path`: a SQLite file, or a database URL."""
    from durable.engine import MessageNotHandledException
    from durable.lang import delete_state, m, post, ruleset, when_all

    from engine.evaluation.matching import customer_mapping, event_mappings
    from engine.facts.loading import customer_id_batches, load_batch
    from engine.history.db import Database

    hits = [0]

    with ruleset("bare"):

        @when_all((m.type == "purchase") & (m.ordinal == 1) & (m.amount >= 20))
        def thank_first_purchase(c: Any) -> None:
            hits[0] += 1

        @when_all(m.type == "mention")
        def mention_reply(c: Any) -> None:
            hits[0] += 1

        @when_all(
            (m.type == "$customer") & (m.days_since_purchase >= 120) & (m.count_purchase >= 2)
        )
        def win_back(c: Any) -> None:
            hits[0] += 1

    url = path if isinstance(path, str) else f"sqlite:///{path}"
    db = Database.open(url, upgrade=False)
    elapsed, customers = 0.0, 0
    for ids in customer_id_batches(db):
        facts = []
        for history in load_batch(db, ids, NOW, "UTC"):
            events = list(event_mappings(history.events).values())
            purchases = [e["occurred_at"] for e in events if e["type"] == "purchase"]
            customer = {
                **customer_mapping(history),
                "type": "$customer",
                "count_purchase": len(purchases),
                "days_since_purchase": (NOW - max(purchases)).days if purchases else None,
            }
            sid = str(history.customer.id)
            messages = [
                {**{k: v for k, v in fact.items() if not isinstance(v, datetime)}, "sid": sid}
                for fact in [*events, customer]
            ]
            facts.append((sid, messages))
        started = time.perf_counter()
        for sid, messages in facts:
            for message in messages:
                try:  # noqa: SIM105 - the cheapest way, and this loop is the yardstick
                    post("bare", message)
                except MessageNotHandledException:
                    pass
            delete_state("bare", sid)
        elapsed += time.perf_counter() - started
        customers += len(facts)
    return {
        "mode": "bare_durable",
        "customers": customers,
        "seconds": elapsed,
        "customers_per_s": customers / elapsed,
        "matches": hits[0],
    }


def _child(path: str, mode: str, workers: str) -> None:
    db_path = Path(path)
    if mode == "bare_durable":
        result = measure_bare_durable(db_path)
    else:
        result = measure_engine(db_path, mode, int(workers))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _measure(path: Path, mode: str, workers: int = 1) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path), mode, str(workers)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for the all-core measurements (default: one per core)",
    )
    parser.add_argument("--child", nargs=3, metavar=("DB", "MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    print(f"evaluation at {NOW.isoformat()}, {EVENTS_PER_CUSTOMER} events per customer")
    print(
        f"{'customers':>9} {'mode':>12} {'seconds':>8} {'cust/s':>8} {'vs bare':>7} {'peak RSS':>9}"
    )
    for count in args.customers:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp) / "bench.db"
            started = time.perf_counter()
            build_database(base, count)
            print(f"# built {count} customers in {time.perf_counter() - started:.1f}s")
            bare = _measure(base, "bare_durable")
            results = [bare]
            for workers in sorted({1, args.workers}):
                run_db = Path(tmp) / f"run{workers}.db"
                shutil.copy(base, run_db)
                results.append(_measure(base, "preview", workers))
                results.append(_measure(run_db, "run", workers))
            preview, run = results[1], results[2]
            for result in results:
                ratio = result["customers_per_s"] / bare["customers_per_s"]
                print(
                    f"{count:>9} {result['mode']:>12} {result['seconds']:>8.1f}"
                    f" {result['customers_per_s']:>8.0f} {ratio:>7.2f}"
                    f" {result['peak_rss_mb']:>7.0f}MB"
                )
            print(f"# planned: preview {preview['planned']}, run {run['planned']}")


if __name__ == "__main__":
    main()
