"""Import throughput: demo history into a fresh SQLite file, through the CLI's code path.

    python bench/bench_import.py [--events 1000000] [--customers 100000] [--cli]

Prints rows/s for customers and events, the idempotent re-import, and a baseline: the same
events CSV read with the csv module and inserted as-is with sqlite3 executemany into a
plain table (no parsing, no checks, no indexes beyond the rowid) — the floor of the cost.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from engine.clock import parse_time
from engine.demo_data import write_files
from engine.history.db import Database
from engine.history.importing import import_customers, import_events

# Demo customers get about 0.94 x mean_events events each (cohort extras included).
EVENTS_PER_MEAN = 0.935


def _timed(label: str, rows: int, run: Callable[[], object]) -> float:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s")
    if result is not None:
        print(f"{'':<34} {result}")
    return rows / seconds


def _baseline(events_csv: Path, db_file: Path) -> None:
    connection = sqlite3.connect(db_file)
    with events_csv.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        columns = ", ".join(f'"{c}" TEXT' for c in header)
        connection.execute(f"CREATE TABLE plain ({columns})")
        marks = ", ".join("?" for _ in header)
        connection.executemany(f"INSERT INTO plain VALUES ({marks})", reader)
    connection.commit()
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default="2026-06-15")
    parser.add_argument("--cli", action="store_true", help="also time `python -m engine import`")
    args = parser.parse_args()
    end: datetime = parse_time(args.end)

    with tempfile.TemporaryDirectory(prefix="rapport-bench-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        mean = args.events / args.customers / EVENTS_PER_MEAN
        files = write_files(
            work, customers=args.customers, seed=args.seed, end=end, mean_events=mean
        )
        print(
            f"demo-data: {files.customers:,} customers, {files.events:,} events "
            f"({files.events_file.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        db = Database.open(f"sqlite:///{work / 'rapport.db'}")
        customers_rate = _timed(
            "import customers",
            files.customers,
            lambda: import_customers(db, files.customers_file),
        )
        events_rate = _timed(
            "import events", files.events, lambda: import_events(db, files.events_file)
        )
        _timed(
            "re-import events (idempotent)",
            files.events,
            lambda: import_events(db, files.events_file),
        )
        _timed(
            "re-import customers (unchanged)",
            files.customers,
            lambda: import_customers(db, files.customers_file),
        )
        db.dispose()
        baseline_rate = _timed(
            "baseline: csv + sqlite3 executemany",
            files.events,
            lambda: _baseline(files.events_file, work / "baseline.db"),
        )
        if args.cli:
            env = {**os.environ, "RAPPORT_DATABASE_URL": f"sqlite:///{work / 'cli.db'}"}
            command = [sys.executable, "-m", "engine", "import"]
            for kind, file, rows in (
                ("customers", files.customers_file, files.customers),
                ("events", files.events_file, files.events),
            ):
                _timed(
                    f"CLI import {kind} (subprocess)",
                    rows,
                    lambda k=kind, f=file: (
                        subprocess.run(
                            [*command, k, str(f)], env=env, check=True, capture_output=True
                        )
                        .stdout.decode()
                        .strip()
                    ),
                )
        print(
            f"events: {events_rate:,.0f} rows/s, customers: {customers_rate:,.0f} rows/s, "
            f"ratio to the bare executemany baseline: {events_rate / baseline_rate:.2f}"
        )


if __name__ == "__main__":
    main()
