"""Past campaigns with planted response rates, written as files for the real importers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.history.db import Database
from engine.history.importing import import_customers, import_events
from engine.history.importing.contacts import import_contacts

SENT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # when the campaign went out


@dataclass(frozen=True)
class Arm:
    group: str  # treatment | holdout | global_holdout
    size: int
    rate: float  # share that responds within the window


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def plant(
    folder: Path,
    arms: list[Arm],
    *,
    cadence: str = "spring",
    seed: int | None = None,
    sent: datetime = SENT,
) -> tuple[Path, Path, Path]:
    """customers.csv, contacts.csv and events.csv for `arms`.

    With `seed` None, exactly round(rate * size) of each arm respond (an exact planted
    rate); with a seed, each customer responds with probability `rate`.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    customers = ["id,handle"]
    contacts = ["customer_id,cadence,step,sent_at,group"]
    events = ["customer_id,type,occurred_at,amount"]
    number = 0
    for arm in arms:
        responders = round(arm.rate * arm.size)
        for i in range(arm.size):
            number += 1
            ext = f"{cadence}-{number:06d}"
            customers.append(f"{ext},h{cadence[:4]}{number}")
            contacts.append(f"{ext},{cadence},offer,{_stamp(sent)},{arm.group}")
            responds = i < responders if seed is None else rng.random() < arm.rate
            if responds:
                when = sent + timedelta(days=1 + (i % 12), hours=3)
                events.append(f"{ext},purchase,{_stamp(when)},{20 + i % 30}")
    paths = (folder / "customers.csv", folder / "contacts.csv", folder / "events.csv")
    for path, lines in zip(paths, (customers, contacts, events), strict=True):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def import_all(db: Database, paths: tuple[Path, Path, Path]) -> None:
    customers, contacts, events = paths
    assert import_customers(db, customers).rejected == 0
    assert import_contacts(db, contacts).rejected == 0
    assert import_events(db, events).rejected == 0
