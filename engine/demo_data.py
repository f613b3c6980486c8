"""Deterministic synthetic history for demos, tests and benchmarks (`rapport demo-data`).

One `random.Random(seed)` drives everything, in one fixed order, so the same arguments give
byte-identical files. The history covers the ~18 months before `end` and is shaped so the
sample cadences (rules/) have work at `end`: first purchases 2-3 days before it (thanks
is due), mentions in its last hour (a reply is due), lapsed repeat buyers (win-back), and
birthdays on its date.
"""

from __future__ import annotations

import csv
import random
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from engine.clock import as_utc
from engine.demo_campaigns import PlantedFiles, write_campaigns
from engine.errors import RapportError

CUSTOMER_COLUMNS = (
    "id", "handle", "name", "timezone", "kind", "consent_at",
    "city", "tier", "favorite_product", "birthday",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "customer_id", "type", "occurred_at",
    "amount", "product", "order_id", "post_id", "text", "url", "author_id", "conversation_id",
    "in_reply_to", "term", "about",
)  # fmt: skip
HISTORY = timedelta(days=540)
DAY = 86_400
BRAND = "acme"  # config.yaml's brand.handle
COMPETITOR = "globex"
TWITTER_EPOCH_MS = 1_288_834_974_657

# (time zone, cities): several continents, incl. odd offsets (+05:45, +10:30/+11 DST).
ZONES = (
    ("America/Los_Angeles", ("Los Angeles", "San Francisco", "Seattle")),
    ("America/New_York", ("New York", "Boston", "Miami")),
    ("America/Sao_Paulo", ("São Paulo", "Rio de Janeiro")),
    ("Europe/Paris", ("Paris", "Lyon", "Marseille")),
    ("Europe/London", ("London", "Manchester")),
    ("Europe/Berlin", ("Berlin", "München")),
    ("Africa/Lagos", ("Lagos", "Abuja")),
    ("Asia/Kathmandu", ("Kathmandu", "Pokhara")),
    ("Asia/Kolkata", ("Mumbai", "Bengaluru")),
    ("Asia/Tokyo", ("Tokyo", "Osaka", "Kyoto")),
    ("Asia/Shanghai", ("Shanghai", "Beijing")),
    ("Australia/Lord_Howe", ("Lord Howe Island",)),
    ("Australia/Sydney", ("Sydney", "Melbourne")),
    ("Pacific/Auckland", ("Auckland",)),
)
FIRST_NAMES = (
    "Jane", "Kenji", "Amara", "Luis", "Chloé", "Priya", "Olu", "Mei", "Sören", "Aroha",
    "Dmitri", "Fatima", "Noah", "Zoë", "Thandiwe", "Mateo", "Ingrid", "Ravi", "Yuki", "Elif",
)  # fmt: skip
LAST_NAMES = (
    "Doe", "Tanaka", "Okafor", "García", "Martin", "Sharma", "Adeyemi", "Chen", "Müller",
    "Ngata", "Ivanov", "Haddad", "Smith", "Dubois", "Dlamini", "Rossi", "Larsen", "Patel",
)  # fmt: skip
SPECIAL_NAMES = (
    "山田 太郎", "李伟", "김민준", "佐藤 花子", "Zoë 🌸", "Sam 🚀☕", "Ana ✨ Silva",
    "María-Fernanda de los Ángeles García-Villanueva y Montenegro de la Cruz",
    "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff Sr.",
)  # fmt: skip
PRODUCTS = ("espresso beans", "house blend", "cold brew kit", "pour-over set", "grinder",
            "decaf", "gift box", "mug", "oat latte mix", "subscription")  # fmt: skip
TIERS = ("bronze", "silver", "gold")
MENTION_TEXTS = (
    "@acme best flat white in town ☕", "loving the new house blend @acme",
    "@acme my order arrived early, thank you!", "@acme any stores opening in Osaka?",
    "@acme 新しいブレンド最高です", "@acme is the grinder back in stock?",
)  # fmt: skip
REPLY_TEXTS = ("thanks!", "will do 😊", "yes please", "haha love it", "ok good to know")
STOP_REPLIES = ("stop", "please stop messaging me", "STOP. not interested")
COMPLAINTS = ("my order never arrived", "the grinder broke after a week", "charged twice?!")
OPT_OUTS = ("unsubscribe me please", "stop contacting me", "opt out")
PROSPECT_TEXTS = (
    "anyone tried @globex beans? thinking of switching",
    "@globex delivery late again",
    "looking for a good coffee subscription, globex or something else?",
)
KEYWORD_TEXTS = (
    "need good coffee beans asap, is acme any good?",
    "acme coffee vs the rest?",
    "cold brew recs? thinking of acme",
)
BRAND_KEYWORDS = ("acme coffee", "acme")  # config.yaml's brand.keywords, longest first
# Regular (non-cohort) events of a customer, by type weight. A `keyword` event is a post found
# by searching the brand's keywords or competitors (`about: brand|competitor`).
BRAND_KEYWORD, COMPETITOR_KEYWORD = "keyword about brand", "keyword about competitor"
CUSTOMER_MIX = (("purchase", 50), ("mention", 22), ("reply", 14), ("quote", 8),
                (BRAND_KEYWORD, 6))  # fmt: skip
PROSPECT_MIX = ((COMPETITOR_KEYWORD, 55), (BRAND_KEYWORD, 30), ("mention", 15))


@dataclass(frozen=True)
class DemoCustomer:
    """One customer's row and its events (oldest first); absent values are not keys."""

    row: dict[str, str]
    events: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class DemoFiles:
    customers_file: Path
    events_file: Path
    customers: int
    events: int
    planted: PlantedFiles | None = None  # past campaigns, with --planted-lift


def _stamp(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class _Generator:
    def __init__(self, seed: int, end: datetime, mean_events: float) -> None:
        self.rng = random.Random(seed)
        self.end = int(as_utc(end).timestamp())
        self.start = self.end - int(HISTORY.total_seconds())
        self.mean_events = mean_events
        self.mix = tuple(t for t, _ in CUSTOMER_MIX), tuple(w for _, w in CUSTOMER_MIX)
        self.prospect_mix = tuple(t for t, _ in PROSPECT_MIX), tuple(w for _, w in PROSPECT_MIX)
        self.end_day = time.strftime("%m-%d", time.gmtime(self.end))

    def post_id(self, ts: int) -> str:
        return str(((ts * 1000 - TWITTER_EPOCH_MS) << 22) | self.rng.getrandbits(22))

    def customer(self, number: int, width: int) -> DemoCustomer:
        rng = self.rng
        ext = str(number).zfill(width)
        prospect = rng.random() < 0.10
        row = {"id": ext, "kind": "prospect" if prospect else "customer"}
        self._identity(row, number)
        self._attributes(row, prospect)
        if not prospect and rng.random() < 0.88:
            row["consent_at"] = _stamp(rng.randrange(self.start - 365 * DAY, self.end - 7 * DAY))
        # The author as X knows them: an id of their own and the handle in post URLs.
        self.author = (str(10**15 + number), row.get("handle", "i").lstrip("@"))
        events = self._prospect_events(ext) if prospect else self._customer_events(ext)
        events.sort(key=lambda e: e["occurred_at"])
        for index, event in enumerate(events, start=1):
            event["id"] = f"{ext}-{index}"
        return DemoCustomer(row, tuple(events))

    def _identity(self, row: dict[str, str], number: int) -> None:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        row["name"] = rng.choice(SPECIAL_NAMES) if rng.random() < 0.08 else f"{first} {last}"
        if row["kind"] == "prospect" or rng.random() < 0.98:
            stem = first + last if rng.random() < 0.3 else first.lower() + "_" + last.lower()
            stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
            suffix = str(number)
            handle = f"{stem[: 14 - len(suffix)]}_{suffix}"
            row["handle"] = "@" + handle if rng.random() < 0.2 else handle
        if rng.random() < 0.95:
            row["timezone"], cities = rng.choice(ZONES)
            row["city"] = rng.choice(cities)

    def _attributes(self, row: dict[str, str], prospect: bool) -> None:
        rng = self.rng
        if prospect:
            return
        row["tier"] = rng.choices(TIERS, weights=(6, 3, 1))[0]
        row["favorite_product"] = rng.choice(PRODUCTS)
        roll = rng.random()
        if roll < 0.01:
            row["birthday"] = f"{rng.randrange(1950, 2006)}-{self.end_day}"
        elif roll < 0.8:
            row["birthday"] = f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-" + (
                f"{rng.randrange(1, 29):02d}"
            )

    def _count(self) -> int:
        return min(int(self.rng.expovariate(1 / self.mean_events)), int(self.mean_events * 10))

    def _customer_events(self, ext: str) -> list[dict[str, str]]:
        rng, end = self.rng, self.end
        events: list[dict[str, str]] = []
        cohort = rng.random()
        fresh, lapsed = cohort < 0.05, 0.05 <= cohort < 0.13
        for type in rng.choices(*self.mix, k=self._count()):
            if type == "purchase" and (fresh or lapsed):
                continue
            events.append(self._event(ext, type, rng.randrange(self.start, end)))
        if fresh:  # the first purchase ever, 2-3 days ago: thank-first-purchase step 1 is due
            events.append(self._purchase(ext, end - rng.randrange(2 * DAY, 3 * DAY), 20.0))
        if lapsed:  # 2+ purchases, the last 120-200 days ago: win-back
            last = end - rng.randrange(120 * DAY, 200 * DAY)
            for _ in range(rng.randrange(1, 5)):
                events.append(self._purchase(ext, last - rng.randrange(10 * DAY, 300 * DAY)))
            events.append(self._purchase(ext, last))
        if rng.random() < 0.04:  # mentioned the brand within the last hour: reply is due
            events.append(self._event(ext, "mention", end - rng.randrange(60, 3600)))
        self._trouble(ext, events)
        return events

    def _trouble(self, ext: str, events: list[dict[str, str]]) -> None:
        rng = self.rng
        if rng.random() < 0.03:
            events.append(self._with_text(ext, "complaint", COMPLAINTS, self._recent()))
        if rng.random() < 0.015:
            events.append(self._with_text(ext, "opt_out", OPT_OUTS, self._recent()))
        if rng.random() < 0.015:
            reply = self._event(ext, "reply", self._recent())
            reply["text"] = rng.choice(STOP_REPLIES)
            events.append(reply)

    def _recent(self) -> int:
        return self.end - self.rng.randrange(3600, 120 * DAY)

    def _prospect_events(self, ext: str) -> list[dict[str, str]]:
        rng = self.rng
        count = max(1, self._count())
        types = rng.choices(*self.prospect_mix, k=count)
        return [self._event(ext, t, rng.randrange(self.start, self.end)) for t in types]

    def _purchase(self, ext: str, ts: int, minimum: float = 4.0) -> dict[str, str]:
        rng = self.rng
        amount = max(minimum, round(rng.lognormvariate(3.5, 0.7), 2))
        return {
            "customer_id": ext,
            "type": "purchase",
            "occurred_at": _stamp(ts),
            "amount": f"{amount:.2f}",
            "product": rng.choice(PRODUCTS),
            "order_id": f"ORD-{ts % 10_000_000:07d}{rng.randrange(100):02d}",
        }

    def _with_text(self, ext: str, type: str, texts: tuple[str, ...], ts: int) -> dict[str, str]:
        return {
            "customer_id": ext,
            "type": type,
            "occurred_at": _stamp(ts),
            "text": self.rng.choice(texts),
        }

    def _event(self, ext: str, type: str, ts: int) -> dict[str, str]:
        if type == "purchase":
            return self._purchase(ext, ts)
        rng = self.rng
        kind = "keyword" if type in (BRAND_KEYWORD, COMPETITOR_KEYWORD) else type
        event = {"customer_id": ext, "type": kind, "occurred_at": _stamp(ts)}
        post_id = event["post_id"] = self.post_id(ts)
        event["conversation_id"] = post_id
        if type in ("mention", "quote"):
            event["text"] = rng.choice(MENTION_TEXTS)
        elif type == "reply":
            event["text"] = rng.choice(REPLY_TEXTS)
            event["in_reply_to"] = self.post_id(ts - rng.randrange(60, 3 * DAY))
            event["conversation_id"] = event["in_reply_to"]
        elif type == COMPETITOR_KEYWORD:
            event["text"] = rng.choice(PROSPECT_TEXTS)
            event["term"], event["about"] = COMPETITOR, "competitor"
        else:
            event["text"] = rng.choice(KEYWORD_TEXTS)
            found = (k for k in BRAND_KEYWORDS if k in event["text"])
            event["term"], event["about"] = next(found, BRAND), "brand"
        author_id, handle = self.author
        event["author_id"] = author_id
        event["url"] = f"https://x.com/{handle}/status/{post_id}"
        return event


def generate(
    customers: int, seed: int, end: datetime, *, mean_events: float = 6.0
) -> Iterator[DemoCustomer]:
    """Yield `customers` synthetic customers with their events, deterministically."""
    generator = _Generator(seed, end, mean_events)
    width = max(6, len(str(customers)))  # ids with leading zeros: text, kept as given
    for number in range(1, customers + 1):
        yield generator.customer(number, width)


def _past_campaign_eligible(demo: DemoCustomer, end: datetime) -> bool:
    """Customers (not prospects) whose first purchase is not recent: a past campaign's
    purchase must not take the place of a first purchase the demo's cadences thank."""
    if demo.row["kind"] != "customer":
        return False
    purchases = [e["occurred_at"] for e in demo.events if e["type"] == "purchase"]
    recent = _stamp(int(as_utc(end).timestamp()) - 30 * DAY)
    return not purchases or min(purchases) < recent


def write_files(
    out: Path,
    *,
    customers: int,
    seed: int,
    end: datetime,
    mean_events: float = 6.0,
    planted_lift: float | None = None,
) -> DemoFiles:
    """Write out/customers.csv and out/events.csv (LF line ends, UTF-8); with
    `planted_lift`, also past campaigns and their planted responses (demo_campaigns.py)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission…
        raise RapportError(
            f"--out {out}: cannot create the folder ({exc.strerror})",
            hint="choose a folder path that is not a file",
        ) from None
    customers_file, events_file = out / "customers.csv", out / "events.csv"
    event_count = 0
    eligible: list[str] = []
    with (
        customers_file.open("w", encoding="utf-8", newline="") as cf,
        events_file.open("w", encoding="utf-8", newline="") as ef,
    ):
        crow, erow = csv.writer(cf, lineterminator="\n"), csv.writer(ef, lineterminator="\n")
        crow.writerow(CUSTOMER_COLUMNS)
        erow.writerow(EVENT_COLUMNS)
        for demo in generate(customers, seed, end, mean_events=mean_events):
            crow.writerow([demo.row.get(c, "") for c in CUSTOMER_COLUMNS])
            erow.writerows([e.get(c, "") for c in EVENT_COLUMNS] for e in demo.events)
            event_count += len(demo.events)
            if planted_lift is not None and _past_campaign_eligible(demo, end):
                eligible.append(demo.row["id"])
    planted = None
    if planted_lift is not None:
        planted = write_campaigns(out, eligible, seed=seed, end=end, lift=planted_lift)
    return DemoFiles(customers_file, events_file, customers, event_count, planted)
