"""Past campaigns with a planted effect, for the demo of `rapport report`.

`rapport demo-data --planted-lift 4%` writes, beside customers.csv and events.csv:

- contacts.csv: past contacts "from another tool" (for `rapport import contacts`): two
  waves of win-back (190+ days apart, as its `reentry: 180d` allows) and one spring-sale
  with variants a and b. Held-out customers are chosen exactly as the engine chooses
  them (the same hash, salt "rapport", 10% per cadence and 5% global), and get a holdout
  row: no message, still measured.
- responses.csv: extra purchases (for `rapport import events`). A treated customer whose
  message was sent buys within the 14-day window with probability equal to the planted
  lift, on top of the history's own purchases (the baseline, the same for everyone).

So the report should find a lift near the planted one among sent messages and slightly
less intent-to-treat (a few messages were rejected in review and had no effect).

Everything here happens at least 180 days before `end`, so the demo's current cadences
still have their work at `end`: customers whose first purchase is recent are left out
(a past purchase would make it not their first).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from engine.clock import as_utc
from engine.policy.holdout import GLOBAL_SCOPE, in_holdout

DAY = timedelta(days=1)
WINDOW = timedelta(days=14)  # config.yaml's report.window
SALT = "rapport"  # the default policy.holdout_salt
GLOBAL_SHARE, CADENCE_SHARE = 0.05, 0.10  # config.yaml and the cadences' holdout
REJECTED_SHARE = 0.05  # messages a reviewer rejected: assigned, never sent
CONTACT_COLUMNS = (
    "customer_id", "cadence", "step", "sent_at", "enrolled_at", "group", "state",
    "variant", "text",
)  # fmt: skip
RESPONSE_COLUMNS = ("id", "customer_id", "type", "occurred_at", "amount", "product", "order_id")


@dataclass(frozen=True)
class Wave:
    cadence: str
    step: str
    first_day: int  # days before `end`
    last_day: int
    variants: tuple[str, ...] = ("",)


WAVES = (
    Wave("win-back", "winback", 530, 470),
    Wave("spring-sale", "offer", 420, 380, ("a", "b")),
    Wave("win-back", "winback", 280, 200),
)


@dataclass(frozen=True)
class PlantedFiles:
    contacts_file: Path
    responses_file: Path
    contacts: int
    responses: int


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def group_of(customer: str, cadence: str) -> str:
    if in_holdout(customer, GLOBAL_SCOPE, GLOBAL_SHARE, SALT):
        return "global_holdout"
    if in_holdout(customer, cadence, CADENCE_SHARE, SALT):
        return "holdout"
    return "treatment"


def write_campaigns(
    out: Path, customers: list[str], *, seed: int, end: datetime, lift: float
) -> PlantedFiles:
    """contacts.csv and responses.csv for `customers` (ids eligible for past campaigns)."""
    rng = random.Random(f"planted:{seed}")  # its own stream: the history stays the same
    end = as_utc(end)
    contacts_file, responses_file = out / "contacts.csv", out / "responses.csv"
    contacts = responses = 0
    with (
        contacts_file.open("w", encoding="utf-8", newline="") as cf,
        responses_file.open("w", encoding="utf-8", newline="") as rf,
    ):
        crow, rrow = csv.writer(cf, lineterminator="\n"), csv.writer(rf, lineterminator="\n")
        crow.writerow(CONTACT_COLUMNS)
        rrow.writerow(RESPONSE_COLUMNS)
        for number, wave in enumerate(WAVES):
            for customer in customers:
                days = rng.uniform(wave.last_day, wave.first_day)
                sent_at = (end - days * DAY).replace(microsecond=0)
                group = group_of(customer, wave.cadence)
                variant = rng.choice(wave.variants) if group == "treatment" else ""
                state = "rejected" if rng.random() < REJECTED_SHARE else "sent"
                if group != "treatment":
                    state = ""
                text = f"@{customer} we miss you" if group == "treatment" else ""
                crow.writerow(
                    [customer, wave.cadence, wave.step, _stamp(sent_at), _stamp(sent_at),
                     group, state, variant, text]
                )  # fmt: skip
                contacts += 1
                if state == "sent" and rng.random() < lift:
                    when = sent_at + rng.uniform(0.05, 0.99) * WINDOW
                    amount = max(5.0, round(rng.lognormvariate(3.5, 0.6), 2))
                    rrow.writerow(
                        [f"planted-{number}-{customer}", customer, "purchase", _stamp(when),
                         f"{amount:.2f}", "house blend", f"ORD-P{number}{customer}"]
                    )  # fmt: skip
                    responses += 1
    return PlantedFiles(contacts_file, responses_file, contacts, responses)
