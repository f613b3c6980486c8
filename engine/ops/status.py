"""`rapport status`: the health of a Rapport installation at a glance, for a person or a
monitoring check (exit 0 healthy, 1 degraded).

Everything comes from the database, so it is right whichever process asks:

- the daemon's heartbeat (table daemon_heartbeat, one row, written by the daemon at start,
  after each evaluation tick and at a clean stop). The daemon is *running* when the row
  is not marked stopped, its last beat (last tick, else start) is younger than
  `stale_after` (three evaluation intervals plus a minute: a tick may run long), and, when
  it runs on this host, its pid is alive;
- the rules it runs (hash, when loaded) and its last refused reload (FILE:LINE:COL lines);
- pauses, the outbox by state and cadence, the oldest message waiting for review, the
  `unknown` messages, the last runs, the X budgets left, the ingestion cursors;
- wake-ups due within the hour, when the database keeps per-customer wake-up times
  (`customers.wake_at`); otherwise that field says it is unavailable.

Degraded (exit 1): no running daemon (never started, stopped, stale or dead), a reload
refused since the last good one, or `unknown` messages waiting for an operator.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, inspect, select, text

from engine.config import Settings
from engine.delivery.budget import DAY_KEY, POST_ENDPOINT, load_budget
from engine.history.db import Database
from engine.history.models import Contact, DaemonHeartbeat, Run, XCursor, XRateLimit
from engine.ledger.states import ContactState
from engine.ops.pause import ALL, pauses

LAST_RUNS = 5
WAKE_WINDOW = timedelta(hours=1)


def stale_after(settings: Settings) -> timedelta:
    return 3 * settings.schedule.evaluate_every + timedelta(minutes=1)


@dataclass
class Status:
    now: datetime
    problems: list[str] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.healthy else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "problems": list(self.problems),
            "now": iso(self.now),
            **self.sections,
        }


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def collect(db: Database, settings: Settings, *, now: datetime) -> Status:
    """Read everything `status` shows, in one read transaction per section."""
    status = Status(now)
    status.sections["daemon"], status.sections["rules"] = daemon_health(
        db, settings, status, now=now
    )
    status.sections["paused"] = paused_summary(db)
    status.sections["outbox"], status.sections["review"], unknown = _outbox(db, now=now)
    status.sections["unknown"] = unknown
    if unknown:
        status.problems.append(
            f"{unknown} message(s) unknown: X may have posted them; reconciliation or "
            "`rapport resolve ID --sent URL | --not-sent` settles them"
        )
    status.sections["runs"] = _runs(db)
    status.sections["x_budget"] = budget_left(db, settings, now=now)
    status.sections["ingestion"] = _cursors(db)
    status.sections["wake_ups_next_hour"] = _wake_ups(db, now=now)
    return status


def _alive(pid: int, host: str) -> bool | None:
    """Is the process alive? None when it runs on another host (we cannot tell)."""
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def daemon_health(
    db: Database, settings: Settings, status: Status, *, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    with db.read() as session:
        row = session.scalars(select(DaemonHeartbeat).order_by(DaemonHeartbeat.id)).first()
        last_hash = session.scalar(select(Run.rules_hash).order_by(Run.id.desc()).limit(1))
        if row is not None:
            session.expunge(row)  # read once, used after the session ends
    limit = stale_after(settings)
    daemon: dict[str, Any] = {"running": False, "state": "never started"}
    rules: dict[str, Any] = {
        "hash": last_hash,
        "loaded_at": None,
        "last_reload_error": None,
        "from": "last run" if last_hash else None,
    }
    if row is None:
        status.problems.append("no daemon has run on this database (start `rapport daemon`)")
        return daemon, rules
    beat = row.last_tick_at or row.started_at
    alive = _alive(row.pid, row.host)
    if row.stopped_at is not None:
        state = "stopped"
    elif alive is False:
        state = "dead"
    elif now - beat > limit:
        state = "stale"
    else:
        state = "running"
    daemon = {
        "running": state == "running",
        "state": state,
        "pid": row.pid,
        "host": row.host,
        "since": iso(row.started_at),
        "last_tick_at": iso(row.last_tick_at),
        "last_tick_seconds": row.last_tick_seconds,
        "last_beat_age_seconds": round((now - beat).total_seconds(), 1),
        "stale_after_seconds": limit.total_seconds(),
        "stopped_at": iso(row.stopped_at),
    }
    if state != "running":
        why = {
            "stopped": f"stopped at {iso(row.stopped_at)}",
            "dead": f"pid {row.pid} on {row.host} is gone (it died without stopping)",
            "stale": f"no heartbeat for {_age(now - beat)} (more than {_age(limit)})",
        }[state]
        status.problems.append(f"the daemon is not running: {why}")
    rules = {
        "hash": row.rules_hash,
        "loaded_at": iso(row.rules_loaded_at),
        "last_reload_error": row.last_reload_error,
        "from": "daemon",
    }
    if row.last_reload_error and state == "running":
        status.problems.append("the last rules reload was refused: the previous rules run")
    return daemon, rules


def _age(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 2 * 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def paused_summary(db: Database) -> dict[str, Any]:
    found = pauses(db)
    return {
        "all": ALL in found,
        "since": iso(found.get(ALL)),
        "cadences": {name: iso(since) for name, since in sorted(found.items()) if name != ALL},
    }


def _outbox(db: Database, *, now: datetime) -> tuple[dict[str, Any], dict[str, Any], int]:
    with db.read() as session:
        rows = session.execute(
            select(Contact.cadence, Contact.state, func.count()).group_by(
                Contact.cadence, Contact.state
            )
        ).all()
        oldest = session.execute(
            select(Contact.id, Contact.cadence, Contact.planned_at)
            .where(Contact.state == ContactState.PENDING_REVIEW.value)
            .order_by(Contact.planned_at, Contact.id)
            .limit(1)
        ).first()
    by_state: dict[str, int] = {}
    by_cadence: dict[str, dict[str, int]] = {}
    for cadence, state, count in rows:
        by_state[state] = by_state.get(state, 0) + count
        by_cadence.setdefault(cadence, {})[state] = count
    review: dict[str, Any] = {
        "pending": by_state.get(ContactState.PENDING_REVIEW.value, 0),
        "oldest_pending": None,
    }
    if oldest is not None:
        review["oldest_pending"] = {
            "id": oldest[0],
            "cadence": oldest[1],
            "planned_at": iso(oldest[2]),
            "age_seconds": round((now - oldest[2]).total_seconds()),
        }
    outbox = {
        "by_state": dict(sorted(by_state.items())),
        "by_cadence": {c: dict(sorted(s.items())) for c, s in sorted(by_cadence.items())},
    }
    return outbox, review, by_state.get(ContactState.UNKNOWN.value, 0)


def _runs(db: Database) -> list[dict[str, Any]]:
    with db.read() as session:
        runs = session.scalars(select(Run).order_by(Run.id.desc()).limit(LAST_RUNS)).all()
        return [
            {
                "id": run.id,
                "mode": run.mode,
                "started_at": iso(run.started_at),
                "finished_at": iso(run.finished_at),
                "evaluated_at": iso(run.evaluated_at),
                "rules_hash": run.rules_hash,
                "summary": run.counts or {},
            }
            for run in runs
        ]


def budget_left(db: Database, settings: Settings, *, now: datetime) -> dict[str, Any]:
    """What may still be posted: the configured budgets (counted from x_post_attempts) and,
    while their window lasts, what X's headers last said."""
    budget = load_budget(db, settings.x, now=now)
    reported: dict[str, Any] = {}
    with db.read() as session:
        for key, window in ((POST_ENDPOINT, "15m"), (DAY_KEY, "24h")):
            row = session.get(XRateLimit, key)
            if row is None:
                continue
            current = row.reset_at is not None and row.reset_at > now
            reported[window] = {
                "limit": row.limit,
                "remaining": row.remaining if current else row.limit,
                "reset_at": iso(row.reset_at) if current else None,
                "seen_at": iso(row.updated_at),
            }
    return {
        "configured": {
            "15m": {"limit": settings.x.max_per_15m, "left": max(0, budget.left_15m)},
            "24h": {"limit": settings.x.max_per_24h, "left": max(0, budget.left_24h)},
        },
        "reported_by_x": reported,
        "held_until": iso(budget.held_until),
    }


def _cursors(db: Database) -> list[dict[str, Any]]:
    with db.read() as session:
        rows = session.execute(
            select(XCursor.endpoint, XCursor.since_id, XCursor.last_success_at).order_by(
                XCursor.endpoint
            )
        ).all()
    return [
        {"endpoint": endpoint, "since_id": since_id, "last_success_at": iso(success)}
        for endpoint, since_id, success in rows
    ]


def _wake_ups(db: Database, *, now: datetime) -> dict[str, Any]:
    """Customers whose `wake_at` falls within the next hour, when that column exists."""
    columns = {c["name"] for c in inspect(db.engine).get_columns("customers")}
    if "wake_at" not in columns:
        return {
            "available": False,
            "count": None,
            "why": "this database keeps no wake-up times (customers.wake_at): "
            "incremental evaluation is not installed",
        }
    with db.read() as session:
        count = session.scalar(
            text("SELECT count(*) FROM customers WHERE wake_at > :now AND wake_at <= :end"),
            {"now": _param(db, now), "end": _param(db, now + WAKE_WINDOW)},
        )
    return {"available": True, "count": int(count or 0), "window_seconds": 3600}


def _param(db: Database, moment: datetime) -> Any:
    from engine.history.models import sqlite_time

    return sqlite_time(moment) if db.is_sqlite else moment


def as_text(status: Status) -> str:
    """The same fields as the JSON, for a person: one block per concern."""
    s = status.sections
    lines = [f"Rapport status at {iso(status.now)}: {'healthy' if status.healthy else 'DEGRADED'}"]
    lines += [f"  ! {problem}" for problem in status.problems]
    d = s["daemon"]
    lines.append("")
    if "pid" in d:
        tick = d["last_tick_at"] or "none yet"
        took = f" ({d['last_tick_seconds']}s)" if d["last_tick_seconds"] is not None else ""
        lines.append(
            f"daemon     {d['state']}: pid {d['pid']} on {d['host']} since {d['since']}; "
            f"last tick {tick}{took}"
        )
    else:
        lines.append(f"daemon     {d['state']}")
    r = s["rules"]
    lines.append(f"rules      {r['hash'] or '-'} loaded {r['loaded_at'] or '-'} (from {r['from']})")
    if r["last_reload_error"]:
        lines.append("           last reload refused:")
        lines += [f"             {line}" for line in r["last_reload_error"].splitlines()]
    p = s["paused"]
    paused = ["ALL SENDING" + f" since {p['since']}"] if p["all"] else []
    paused += [f"{name} since {since}" for name, since in p["cadences"].items()]
    lines.append(f"paused     {'; '.join(paused) if paused else 'no'}")
    o = s["outbox"]
    lines.append(f"outbox     {_counts(o['by_state'])}")
    for cadence, states in o["by_cadence"].items():
        lines.append(f"           {cadence}: {_counts(states)}")
    review = s["review"]
    oldest = review["oldest_pending"]
    waiting = (
        f"; oldest #{oldest['id']} ({oldest['cadence']}) planned {oldest['planned_at']}, "
        f"{_age(timedelta(seconds=oldest['age_seconds']))} ago"
        if oldest
        else ""
    )
    lines.append(f"review     {review['pending']} pending{waiting}")
    lines.append(f"unknown    {s['unknown']}")
    lines.append("runs")
    for run in s["runs"]:
        summary = run["summary"]
        brief = ", ".join(
            f"{k} {summary[k]}" for k in ("evaluated", "enrolled", "planned") if k in summary
        )
        lines.append(
            f"  #{run['id']} {run['mode']} at {run['evaluated_at'] or run['started_at']}"
            f" finished {run['finished_at'] or '-'}: {brief or 'no summary'}"
        )
    b = s["x_budget"]
    conf = b["configured"]
    budget = (
        f"x budget   15m {conf['15m']['left']}/{conf['15m']['limit']}, "
        f"24h {conf['24h']['left']}/{conf['24h']['limit']} left (configured)"
    )
    for window, seen in b["reported_by_x"].items():
        budget += f"; X says {window} {seen['remaining']}/{seen['limit']}"
    if b["held_until"]:
        budget += f"; held until {b['held_until']}"
    lines.append(budget)
    lines.append("ingestion" + ("" if s["ingestion"] else "  no cursor yet"))
    for cursor in s["ingestion"]:
        lines.append(
            f"  {cursor['endpoint']}: since {cursor['since_id'] or '-'}, "
            f"last success {cursor['last_success_at'] or 'never'}"
        )
    w = s["wake_ups_next_hour"]
    lines.append(
        f"wake-ups   {w['count']} in the next hour"
        if w["available"]
        else f"wake-ups   unavailable: {w['why']}"
    )
    return "\n".join(lines)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{state} {n}" for state, n in counts.items()) or "empty"
