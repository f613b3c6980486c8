"""Benchmark and scenario: `rapport daemon` on a demo database against the stand-in X API,
killed with SIGKILL and restarted 8 times, then stopped with SIGTERM.

    python bench/bench_daemon_restarts.py                  # 300 customers, 8 kills
    python bench/bench_daemon_restarts.py --kills 3 --customers 100

What it does, in a temporary project (the repository's rules and templates, its
config.yaml with `channels.x.base_url` pointed at the stand-in, a fast schedule, and no
quiet hours, so the figures do not depend on the hour it runs):
1. `rapport demo-data --end <now>` and the imports: a history that ends now;
2. demo customers with consent @mention the brand on the stand-in; the daemon reads the
   mentions, replies on X, and puts its proactive messages in the review queue;
3. before each of the kills a few more mentions; the daemon is started, killed at a
   random moment after it started working, started again, and so on;
4. a last clean start settles everything; SIGTERM; the exit code and the seconds it took.

It prints the time the kills and restarts took, what the stand-in received (and that no
mention got two replies), the ledger by channel and state, and the daemon's heartbeat row.
Exit 1 when a reply was posted twice or a mention has no reply row.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from engine.history.db import Database
from engine.x.stand_in import StandIn

ROOT = Path(__file__).resolve().parent.parent
POST = "POST /2/tweets"
SCHEDULE = "schedule: {evaluate_every: 5s, deliver_every: 1s, poll_x_every: 1s}"


def rapport(*args: str, env: dict[str, str], cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "engine", *args], env=env, cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def project(root: Path, base_url: str) -> None:
    shutil.copytree(ROOT / "rules", root / "rules")
    shutil.copytree(ROOT / "templates", root / "templates")
    config = (ROOT / "config.yaml").read_text()
    config = config.replace("https://api.x.com", base_url)
    config = re.sub(r"(?m)^schedule:.*$", SCHEDULE, config)
    config = re.sub(r"(?m)^(\s*)quiet_hours:", r"\1# quiet_hours:", config)
    (root / "config.yaml").write_text(config)


def consenting_handles(db: Database) -> list[str]:
    with db.read() as session:
        rows = session.execute(
            text(
                "SELECT handle FROM customers WHERE kind = 'customer' AND consent_at IS NOT NULL"
                " AND handle IS NOT NULL ORDER BY id"
            )
        )
        return [row[0] for row in rows]


def start(root: Path, env: dict[str, str], n: int) -> tuple[subprocess.Popen[bytes], Path]:
    log = root / f"daemon-{n}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "engine", "daemon", "--log-format", "json"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    return popen, log


def events(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            found.append(json.loads(line))
    return found


def wait_for(log: Path, popen: subprocess.Popen[bytes], event: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not any(e.get("event") == event for e in events(log)):
        if popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"no {event} in {log}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


def ledger(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as session:
        return [
            tuple(r)
            for r in session.execute(
                text(
                    "SELECT channel, state, count(*) FROM contacts"
                    " WHERE planned_at > :since GROUP BY channel, state ORDER BY 1, 2"
                ),
                {"since": datetime(2026, 11, 30, tzinfo=UTC)},
            )
        ]


def x_replies(db: Database) -> dict[str, str]:
    with db.read() as session:
        rows = session.execute(
            text("SELECT in_reply_to, state FROM contacts WHERE in_reply_to IS NOT NULL")
        )
        return {r[0]: r[1] for r in rows}


def settle(db: Database, log: Path, popen: subprocess.Popen[bytes], mentions: list[str]) -> None:
    """Until every mention is read and no reply is on its way, then two more evaluation
    ticks and polls (reconciliation) to be sure nothing else was coming."""
    deadline = time.monotonic() + 120
    for _ in range(2):
        while not quiet(db, mentions) and time.monotonic() < deadline:
            time.sleep(0.2)
        ticks = sum(e.get("event") == "tick_done" for e in events(log))
        while sum(e.get("event") == "tick_done" for e in events(log)) < ticks + 2:
            if popen.poll() is not None or time.monotonic() > deadline:
                return
            time.sleep(0.2)


def quiet(db: Database, mentions: list[str]) -> bool:
    with db.read() as session:
        read = {
            r[0]
            for r in session.execute(
                text("SELECT external_id FROM events WHERE type = 'mention' AND source = 'x'")
            )
        }
    states = x_replies(db).values()
    return set(mentions) <= read and not any(s in ("planned", "sending") for s in states)


def why_unanswered(db: Database, posts: set[str]) -> dict[str, str]:
    """The engine's last decision about the customer who wrote each unanswered post."""
    found = {}
    with db.read() as session:
        for post in posts:
            row = session.execute(
                text(
                    "SELECT d.outcome, d.reason FROM decisions d JOIN events e"
                    " ON e.customer_id = d.customer_id WHERE e.external_id = :post"
                    " AND d.cadence = 'mention-reply' ORDER BY d.id DESC LIMIT 1"
                ),
                {"post": post},
            ).first()
            found[post] = f"{row[0]} ({row[1]})" if row else "no decision"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="rapport-daemon-bench-"))
    with StandIn() as x:
        project(root, x.base_url)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")},
            "PYTHONPATH": str(ROOT),
            "RAPPORT_DATABASE_URL": f"sqlite:///{root / 'rapport.db'}",
            "RAPPORT_X_TOKEN": "stand-in-token",
        }
        end = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rapport("demo-data", "--customers", str(args.customers), "--seed", "7", "--end", end,
                "--out", str(root / "demo"), env=env, cwd=root)  # fmt: skip
        rapport("import", "customers", str(root / "demo/customers.csv"), env=env, cwd=root)
        rapport("import", "events", str(root / "demo/events.csv"), env=env, cwd=root)
        db = Database.open(env["RAPPORT_DATABASE_URL"])
        fans = iter(consenting_handles(db))
        mentions: list[str] = []

        def mention(n: int) -> None:
            for _ in range(n):
                mentions.append(x.mention(next(fans), "@acme is the grinder back in stock?")["id"])

        mention(5)
        popen, log = start(root, env, 0)
        wait_for(log, popen, "delivered")
        popen.kill()
        popen.wait()
        started = time.monotonic()
        for kill in range(1, args.kills + 1):
            mention(2)
            popen, log = start(root, env, kill)
            wait_for(log, popen, "pool_started")
            time.sleep(rng.uniform(0.5, 4.0))
            popen.send_signal(signal.SIGKILL)
            popen.wait()
        kills_took = time.monotonic() - started
        popen, log = start(root, env, args.kills + 1)
        settle(db, log, popen, mentions)
        stop_started = time.monotonic()
        popen.send_signal(signal.SIGTERM)
        code = popen.wait(timeout=30)
        stop_took = time.monotonic() - stop_started
        received = Counter(r["body"]["reply"]["in_reply_to_tweet_id"] for r in x.requests_to(POST))
        twice = [post for post, n in received.items() if n > 1]
        unanswered = why_unanswered(db, set(mentions) - set(x_replies(db)))
        print(f"{args.kills} kills (SIGKILL) and restarts: {kills_took:.1f} s")
        print(f"SIGTERM: exit {code} after {stop_took:.1f} s")
        print(f"mentions posted to the stand-in: {len(mentions)}; replies it received: "
              f"{sum(received.values())}; mentions answered twice: {len(twice)}; "
              f"mentions not answered: {len(unanswered)}")  # fmt: skip
        for post, why in sorted(unanswered.items()):
            print(f"   post {post}: {why}")
        print("messages planned by the daemon (channel, state, count):")
        for row in ledger(db):
            print("  ", *row)
        with db.read() as session:
            beat = session.execute(text("SELECT * FROM daemon_heartbeat")).mappings().first()
        print("heartbeat:", dict(beat or {}))
        print("project:", root)
        return 1 if twice or code != 0 else 0


if __name__ == "__main__":
    raise SystemExit(main())
