"""Customers per second through the durable matcher, next to a bare durable_rules loop.

Both run in the same process on the same facts and the same compiled ruleset: the bare
loop only asserts the prebuilt facts of each customer and deletes the session, so the
ratio (matcher / bare) shows what our layer costs. Target: ratio >= 0.5.

    .venv/bin/python bench/bench_matcher.py [CUSTOMERS] [--batch 500]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

from engine.conditions import Facts, parse_condition
from engine.matcher import MatchRequest
from engine.matcher.durable import DurableMatcher, _shared_host

CONDITIONS = {
    "thanks/trigger": 'event.type == "purchase" and event.ordinal == 1 and event.amount >= 20',
    "winback/when": "days_since(purchase) >= 120 and count(purchase) >= 2",
    "give-back/step": "sum(purchase.amount, 365d) >= 100",
    "vip/trigger": 'event.type == "purchase" and customer.tier in ["gold", "platinum"]',
    "reply/trigger": 'event.type == "reply" and not (customer.opted_out == true)',
    "browse/trigger": 'event.type == "visit" and event.page contains "pricing"',
    "lapsed/when": "count(purchase, 30d) == 0 and last(purchase.amount) > 50",
}
TYPES = ("purchase", "visit", "reply")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def customer_requests(rng: random.Random, number: int, names: frozenset[str]) -> list[MatchRequest]:
    customer = {
        "tier": rng.choice(["gold", "silver", "platinum", None]),
        "opted_out": rng.random() < 0.1,
    }
    aggregates = {
        "days_since(purchase)": rng.choice([None, 3, 130, 400]),
        "count(purchase)": rng.randint(0, 5),
        "sum(purchase.amount,365d)": rng.uniform(0, 300),
        "count(purchase,30d)": rng.randint(0, 2),
        "last(purchase.amount)": rng.choice([None, 20, 75.5]),
    }
    cid = str(number)
    requests = [MatchRequest(cid, Facts(customer, None, aggregates), names)]
    for ordinal in range(1, 11):
        event = {
            "type": rng.choice(TYPES),
            "ordinal": ordinal,
            "occurred_at": NOW - timedelta(days=ordinal),
            "amount": rng.randint(5, 80),
            "page": rng.choice(["/pricing", "/home", "/blog"]),
        }
        requests.append(MatchRequest(cid, Facts(customer, event, aggregates), names))
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("customers", type=int, nargs="?", default=100_000)
    parser.add_argument("--batch", type=int, default=500, help="customers per match() call")
    args = parser.parse_args()
    matcher = DurableMatcher({name: parse_condition(text) for name, text in CONDITIONS.items()})
    names = frozenset(CONDITIONS)
    host, ruleset, slots = _shared_host(), matcher._ruleset, matcher._slots
    rng = random.Random(7)
    matcher_seconds = bare_seconds = 0.0
    matches = 0
    for start in range(0, args.customers, args.batch):
        count = min(args.batch, args.customers - start)
        requests = [
            r for n in range(start, start + count) for r in customer_requests(rng, n, names)
        ]
        began = time.perf_counter()
        answers = matcher.match(requests)
        matcher_seconds += time.perf_counter() - began
        matches += sum(len(a) for a in answers)
        sessions = [requests[i : i + 11] for i in range(0, len(requests), 11)]
        prebuilt = []
        for number, group in enumerate(sessions):
            sid = f"bare-{start}-{number}"
            first = group[0].facts
            facts = [slots.customer_fact(sid, first.customer, first.aggregates)]
            facts += [slots.request_fact(sid, rq, r.facts.event) for rq, r in enumerate(group)]
            prebuilt.append((sid, facts))
        began = time.perf_counter()
        for sid, facts in prebuilt:
            host.assert_facts(ruleset, facts)
            host.delete_state(ruleset, sid)
        bare_seconds += time.perf_counter() - began
    matcher._hits.clear()
    matcher_rate = args.customers / matcher_seconds
    bare_rate = args.customers / bare_seconds
    print(
        f"customers: {args.customers}, events each: 10, conditions: {len(CONDITIONS)}, "
        f"durable rules: {matcher.rule_count}, fallbacks: {len(matcher.fallback_reasons)}"
    )
    print(f"matches found: {matches}")
    print(f"matcher:      {matcher_seconds:8.2f} s  {matcher_rate:10.0f} customers/s")
    print(f"bare durable: {bare_seconds:8.2f} s  {bare_rate:10.0f} customers/s")
    print(f"ratio matcher/bare: {matcher_rate / bare_rate:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
