"""Scale benchmark: N customers x M events, imported, then one full pass with W workers.

    python bench/scale.py --customers 100000 --events-per-customer 10 --workers 2 --json
    python bench/scale.py --customers 100000 --database postgresql+psycopg://… --json

Prints ONE JSON object (with --json; else the same figures as lines):

- `import_events_per_s`: the synthetic history written as CSV files and imported through
  the real importers (`rapport import customers`, then `import events`): events per second.
- `full_pass_s`, `customers_per_s`: one writing evaluation (`run`) of every customer with
  `--workers` processes, timed in its own process.
- `baseline_customers_per_s`: a bare durable_rules loop over the same customers' facts, one
  process, same run (bench/bench_evaluate.py's yardstick: the facts are loaded untimed,
  only posting them to durable_rules is timed).
- `ratio`: customers/s per worker process ÷ baseline_customers_per_s.
- `incremental_tick_s`: 1% of the customers get a new event, then a tick 5 minutes later.
  Needs the incremental runner (`EvaluationOptions.full`); without it the value is null
  and `note` says so.
- `peak_rss_mb`: the largest peak RSS of any one process of the full pass (the parent or
  one of its workers; each measurement runs in a fresh process, so it is its own).
- `free_disk_gb`, `database_mb` (SQLite): the disk check and what the run took.

The free disk of the work folder is checked before anything is written (1M customers x 10
events need several GB); the folder and the database it made (a temporary SQLite file, or
the tables in the given PostgreSQL database) are left as they are only with --keep.
A PostgreSQL database must be empty and migrated or empty: the importers upgrade it.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_spec = importlib.util.spec_from_file_location(
    "bench_evaluate", ROOT / "bench" / "bench_evaluate.py"
)
assert _spec is not None and _spec.loader is not None
bench_evaluate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_evaluate)

NOW: datetime = bench_evaluate.NOW
TICK = timedelta(minutes=5)
# Bytes on disk per event and per customer: the CSV files plus the SQLite database with its
# indexes, measured at 100k customers x 10 events, with room to spare.
BYTES_PER_EVENT = 450
BYTES_PER_CUSTOMER = 700


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


CUSTOMER_COLUMNS = "id,handle,name,timezone,kind,consent_at,city,tier,favorite_product,birthday"
EVENT_COLUMNS = "customer_id,type,occurred_at,id,amount,product,order_id,post_id,text"
CITIES = ("Lyon", "Osaka", "Austin", "Pune")
PRODUCTS: tuple[str, ...] = bench_evaluate.PRODUCTS


def write_csv_files(folder: Path, customers: int, events_each: int, seed: int = 7) -> int:
    """bench_evaluate's synthetic base as import files, streamed row by row; returns the
    number of events."""
    rng = random.Random(seed)
    created = _iso(NOW - timedelta(days=500))
    events = 0
    with (
        (folder / "customers.csv").open("w", newline="") as cf,
        (folder / "events.csv").open("w", newline="") as ef,
    ):
        cw, ew = csv.writer(cf), csv.writer(ef)
        cw.writerow(CUSTOMER_COLUMNS.split(","))
        ew.writerow(EVENT_COLUMNS.split(","))
        for i in range(1, customers + 1):
            ext = f"C{i:07d}"
            birthday = f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            zone, city = rng.choice(bench_evaluate.ZONES), rng.choice(CITIES)
            tier, product = rng.choice(("bronze", "silver", "gold")), rng.choice(PRODUCTS)
            name = f"Customer {i}"
            cw.writerow(
                (ext, f"cust{i}", name, zone, "customer", created, city, tier, product, birthday)
            )
            for k in range(events_each):
                kind = rng.choice(bench_evaluate.EVENT_TYPES)
                at = _iso(NOW - timedelta(seconds=rng.randint(0, 400 * 86400)))
                if kind == "purchase":
                    amount = f"{rng.uniform(5, 120):.2f}"
                    tail = [amount, rng.choice(PRODUCTS), f"o{i}-{k}", "", ""]
                else:
                    tail = ["", "", "", f"{i}{k:02d}", "love it @acme"]
                ew.writerow([ext, kind, at, f"b{i}-{k}", *tail])
                events += 1
    return events


# --- measurements, each in its own process ----------------------------------------------


def child_import(url: str, folder: str) -> dict[str, Any]:
    from engine.history.db import Database
    from engine.history.importing import import_customers, import_events
    from engine.history.models import CadenceLaunch

    db = Database.open(url)
    started = time.perf_counter()
    customers = import_customers(db, Path(folder) / "customers.csv")
    customers_s = time.perf_counter() - started
    started = time.perf_counter()
    events = import_events(db, Path(folder) / "events.csv")
    events_s = time.perf_counter() - started
    # Every sample cadence went live before the history began, so all of it counts.
    with db.write() as session:
        for name in ("thank-first-purchase", "mention-reply", "win-back"):
            session.merge(CadenceLaunch(cadence=name, first_seen_at=NOW - timedelta(days=450)))
    db.dispose()
    if customers.rejected or events.rejected:
        raise SystemExit(f"import rejected rows: {customers.rejected}, {events.rejected}")
    return {
        "customers_imported": customers.inserted,
        "events_imported": events.inserted,
        "import_customers_s": customers_s,
        "import_events_s": events_s,
    }


def _options(workers: int, *, full: bool | None) -> Any:
    from engine.modes import EvaluationOptions

    if full is None or not incremental_runner():
        return EvaluationOptions(workers=workers)
    return EvaluationOptions(workers=workers, full=full)  # type: ignore[call-arg]


def incremental_runner() -> bool:
    """Whether this engine has incremental ticks (run_once with `EvaluationOptions.full`)."""
    from engine.modes import EvaluationOptions

    return "full" in getattr(EvaluationOptions, "__dataclass_fields__", {})


def child_run(url: str, project: str, at: str, workers: str, full: str) -> dict[str, Any]:
    from engine.config import load_settings
    from engine.history.db import Database
    from engine.modes.runner import run_once

    settings = load_settings(Path(project) / "config.yaml")
    db = Database.open(url, upgrade=False)
    started = time.perf_counter()
    summary = run_once(
        db,
        settings,
        now=datetime.fromisoformat(at),
        options=_options(int(workers), full=full == "full"),
    )
    seconds = time.perf_counter() - started
    db.dispose()
    return {
        "seconds": seconds,
        "evaluated": summary.evaluated,
        "scope": getattr(summary, "scope", "full"),
        "planned": sum(summary.planned.values()),
    }


def child_bare(url: str) -> dict[str, Any]:
    return dict(bench_evaluate.measure_bare_durable(url))


def child_new_events(url: str, folder: str, customers: str) -> dict[str, Any]:
    """One new purchase, dated just before the tick, for every 100th customer."""
    from engine.history.db import Database
    from engine.history.importing import import_events

    path = Path(folder) / "new-events.csv"
    moment = _iso(NOW + TICK / 2)
    with path.open("w") as file:
        file.write("customer_id,type,occurred_at,id,amount,product\n")
        for i in range(1, int(customers) + 1, 100):
            file.write(f"C{i:07d},purchase,{moment},new-{i},42.0,mug\n")
    db = Database.open(url, upgrade=False)
    summary = import_events(db, path)
    db.dispose()
    return {"new_events": summary.inserted}


CHILDREN = {
    "import": child_import,
    "run": child_run,
    "bare": child_bare,
    "new-events": child_new_events,
}


def _child(name: str, args: list[str]) -> None:
    measure: Any = CHILDREN[name]
    result = measure(*args)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result["peak_rss_mb"] = round(max(own, workers), 1)
    print(json.dumps(result))


def _measure(name: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the run ------------------------------------------------------------------------------


def check_disk(folder: Path, customers: int, events_each: int, *, sqlite: bool) -> float:
    """Free GB in `folder`; stops with a clear message when the run would not fit."""
    free = shutil.disk_usage(folder).free
    need = customers * (events_each * BYTES_PER_EVENT + BYTES_PER_CUSTOMER)
    if not sqlite:
        need //= 3  # only the CSV files are written here
    if free < need * 1.2:
        raise SystemExit(
            f"scale: {customers:,} customers x {events_each} events need about"
            f" {need / 1e9:.1f} GB in {folder} and {free / 1e9:.1f} GB are free;"
            " free some space or pass --work DIR on a larger disk"
        )
    return free / 1e9


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    sqlite = args.database is None
    url = args.database or f"sqlite:///{work / 'scale.db'}"
    free_gb = check_disk(work, args.customers, args.events_per_customer, sqlite=sqlite)
    project = work / "project"
    bench_evaluate.bench_project(project)
    started = time.perf_counter()
    events = write_csv_files(work, args.customers, args.events_per_customer)
    files_s = time.perf_counter() - started
    imported = _measure("import", url, str(work))
    bare = _measure("bare", url)
    full = _measure("run", url, str(project), NOW.isoformat(), str(args.workers), "full")
    result: dict[str, Any] = {
        "customers": full["evaluated"],
        "events_per_customer": args.events_per_customer,
        "events": events,
        "workers": args.workers,
        "database": "sqlite" if sqlite else "postgresql",
        "full_pass_s": round(full["seconds"], 2),
        "customers_per_s": round(full["evaluated"] / full["seconds"], 1),
        "baseline_customers_per_s": round(bare["customers_per_s"], 1),
        "ratio": round(
            full["evaluated"] / full["seconds"] / args.workers / bare["customers_per_s"], 3
        ),
        "incremental_tick_s": None,
        "peak_rss_mb": full["peak_rss_mb"],
        "import_events_per_s": round(imported["events_imported"] / imported["import_events_s"]),
        "import_customers_per_s": round(
            imported["customers_imported"] / imported["import_customers_s"]
        ),
        "planned": full["planned"],
        "peak_rss_mb_import": imported["peak_rss_mb"],
        "peak_rss_mb_baseline": bare["peak_rss_mb"],
        "write_files_s": round(files_s, 1),
        "free_disk_gb": round(free_gb, 1),
    }
    if incremental_runner():
        added = _measure("new-events", url, str(work), str(args.customers))
        at = (NOW + TICK).isoformat()
        tick = _measure("run", url, str(project), at, str(args.workers), "auto")
        result["incremental_tick_s"] = round(tick["seconds"], 2)
        result["incremental_customers"] = tick["evaluated"]
        result["incremental_scope"] = tick["scope"]
        result["new_events"] = added["new_events"]
    else:
        result["note"] = (
            "incremental_tick_s is null: this engine has no incremental runner"
            " (EvaluationOptions.full); every run is a full pass"
        )
    if sqlite:
        result["database_mb"] = round((work / "scale.db").stat().st_size / 1e6)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--work", type=Path, help="folder for the files (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1:])
        return
    if args.customers < 1 or args.events_per_customer < 1 or args.workers < 1:
        parser.error("--customers, --events-per-customer and --workers must be at least 1")
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rapport-scale-", dir=args.work))
    try:
        result = run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
