"""Generated customers for validate-time renders when the database has none.

The first six are the cases that break templates in practice: a long name, a CJK name
without spaces, emoji in a name, missing name and attributes, a right-to-left name and a
plain one. Further customers mix those traits deterministically from `seed`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.conditions import HistoryEvent

_LONG_NAME = (
    "Bartholomew-Maximilian Alexander Friedrich Wolfeschlegelsteinhausenbergerdorff"
    " von Hohenzollern-Sigmaringen der Jüngere III"
)
_FIXED: list[dict[str, Any]] = [
    {
        "id": "sample-1",
        "handle": "jane_doe",
        "name": "Jane Doe",
        "timezone": "America/New_York",
        "kind": "customer",
        "attributes": {
            "city": "Boston",
            "favorite_product": "trail shoes",
            "tier": "gold",
            "birthday": "1990-04-12",
        },
    },
    {
        "id": "sample-2",
        "handle": "yamada_taro",
        "name": "山田太郎",
        "timezone": "Asia/Tokyo",
        "kind": "customer",
        "attributes": {"city": "東京", "favorite_product": "抹茶ラテ", "tier": "silver"},
    },
    {
        "id": "sample-3",
        "handle": "ana_cactus",
        "name": "🌵 Ana López 🌸✨",
        "timezone": "Europe/Madrid",
        "kind": "customer",
        "attributes": {"city": "Sevilla", "favorite_product": "🍵 green tea", "tier": "bronze"},
    },
    {
        "id": "sample-4",
        "handle": "Abcdefghij12345",
        "name": _LONG_NAME,
        "timezone": "Europe/Berlin",
        "kind": "customer",
        "attributes": {
            "city": "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
            "favorite_product": "extra-large insulated stainless steel travel mug with lid",
            "tier": "platinum",
        },
    },
    {
        "id": "sample-5",
        "handle": "no_name_99",
        "name": None,
        "timezone": None,
        "kind": "customer",
        "attributes": {},
    },
    {
        "id": "sample-6",
        "handle": "minjun_kim",
        "name": "김민준",
        "timezone": "Asia/Seoul",
        "kind": "prospect",
        "attributes": {"city": "서울"},
    },
]
_FIRST = ["Ola", "محمد", "Zoë", "Nguyễn Văn An", "Ἀλέξανδρος", "Priya", "😀😀😀", "李小龙"]
_LAST = ["Nordmann", "", "O'Brien-Smith", "Papadopoulos", "Okonkwo"]
_ZONES = ["UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata", "Africa/Cairo"]
_CITIES = ["Oslo", "القاهرة", "Hà Nội", "São Paulo", None]


def sample_customers(n: int = 6, seed: int = 0) -> list[dict[str, Any]]:
    """`n` customer dicts (id, handle, name, timezone, kind, attributes), deterministic."""
    customers = [dict(customer) for customer in _FIXED[:n]]
    rng = random.Random(seed)
    for index in range(len(customers), n):
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}".strip()
        city = rng.choice(_CITIES)
        customers.append(
            {
                "id": f"sample-{index + 1}",
                "handle": f"sample_{index + 1}",
                "name": name,
                "timezone": rng.choice(_ZONES),
                "kind": "customer",
                "attributes": {"city": city} if city else {},
            }
        )
    return customers


def sample_event(event_type: str = "purchase") -> dict[str, Any]:
    """A trigger event carrying the properties the sample templates read."""
    return {
        "type": event_type,
        "occurred_at": datetime(2026, 2, 27, 18, 30, tzinfo=UTC),
        "ordinal": 1,
        "properties": {
            "amount": 1234.5,
            "currency": "USD",
            "product": "limited-edition hand-thrown ceramic pour-over coffee set",
            "post_id": "1893745893745893745",
            "text": "Just got my order from @brand and honestly it is the best thing I've bought"
            " all year, the packaging alone 😍😍😍 #happy",
        },
    }


def sample_history() -> dict[str, Any]:
    """History aggregates as conditions name them (count(purchase), days_since(purchase)…)."""
    return {
        "count(purchase)": 3,
        "days_since(purchase)": 143,
        "sum(purchase.amount)": 312.4,
        "last(purchase.product)": "trail shoes",
    }


def sample_events() -> list[HistoryEvent]:
    """A history for the built-in samples, so validate computes every history value a
    template names the way a run does (engine/conditions/history.py), as of SAMPLE_NOW."""
    day = timedelta(days=1)
    last = datetime(2025, 10, 22, 12, 0, tzinfo=UTC)  # 143 days before SAMPLE_NOW
    purchases = [
        (last - 300 * day, 79.9, "pour-over kettle"),
        (last - 120 * day, 120.0, "espresso beans, 1 kg"),
        (last, 112.5, "trail shoes"),
    ]
    events = [
        HistoryEvent("purchase", at, {"amount": amount, "currency": "USD", "product": product})
        for at, amount, product in purchases
    ]
    events.insert(2, HistoryEvent("mention", last - 30 * day, {"text": "@brand love it"}))
    events.append(HistoryEvent("reply", last + 2 * day, {"text": "thanks!"}))
    return events
