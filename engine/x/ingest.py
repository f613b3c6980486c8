"""Ingestion: posts from X become events, each once (docs/x.md).

Three reads, each with its own cursor (`since_id`, table x_cursors) and its own short
transaction after the HTTP calls are done (a read that fails, a 429 say, is reported and
retried at the next poll from the same cursor; the others go on):
- `mentions`: the brand's mentions timeline;
- `search:brand`: a recent search over `brand.keywords`;
- `search:competitor`: a recent search over `brand.competitors`.

A post that addresses the brand is a summons: `reply` (it replies to a brand post),
`quote` (it quotes one) or `mention`. A post found only by search is a `keyword` event
with `term` (the keyword it matched) and `about: brand|competitor`. Every event carries
`post_id`, `text`, `url`, `author_id` and `conversation_id`; the external id is the post
id and the source "x", so a post seen twice (by two reads, or after a crash before the
cursor moved) is stored once.

An author not yet known becomes a `prospect` keyed by handle. An opt-out word in the post
(engine/policy/opt_out.py decides what counts) suppresses its author in the same
transaction, and withdraws their queued messages, before any evaluation can see the post.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.history.db import Database
from engine.history.models import Customer, Event, Suppression, XCursor
from engine.ledger.withdraw import withdraw_queued
from engine.policy.opt_out import opt_out_signal
from engine.policy.suppression import OPTED_OUT
from engine.x.account import BrandAccount, brand_account
from engine.x.client import Timeline, XClient, XError, XPost

SOURCE = "x"
HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


@dataclass
class IngestReport:
    events: Counter[str] = field(default_factory=Counter)  # new events by type
    already_seen: int = 0
    prospects: list[str] = field(default_factory=list)  # handles of new prospects
    opted_out: list[int] = field(default_factory=list)  # customer ids suppressed now
    cursors: dict[str, str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # reads that failed; the others went on


@dataclass(frozen=True)
class _Read:
    """One cursor's read: how to fetch, and what a post found only this way is about."""

    cursor: str
    fetch: Callable[[str | None], Timeline]
    about: str | None  # None: the mentions timeline (every post addresses the brand)
    terms: tuple[str, ...] = ()


def search_query(terms: Sequence[str], brand: str) -> str:
    """`(acme OR "acme coffee") -from:acme -is:retweet`: the terms, not our own posts."""
    quoted = [f'"{t}"' if " " in t else t for t in terms]
    query = f"({' OR '.join(quoted)}) -is:retweet"
    return f"{query} -from:{brand}" if brand else query


def poll_x(db: Database, settings: Settings, *, now: datetime, client: XClient) -> IngestReport:
    """One poll of the mentions and the two searches; each post becomes an event once."""
    account = brand_account(db, client, now=now)
    brand = settings.brand
    handle = brand.handle or account.username
    reads = [
        _Read("mentions", lambda since: client.mentions(account.user_id, since_id=since), None)
    ]
    for cursor, terms, about in (
        ("search:brand", brand.keywords, "brand"),
        ("search:competitor", brand.competitors, "competitor"),
    ):
        if terms:
            query = search_query(terms, handle)
            fetch = _searcher(client, query)
            reads.append(_Read(cursor, fetch, about, tuple(terms)))
    report = IngestReport()
    for read in reads:
        since = _cursor(db, read.cursor)
        try:
            timeline = read.fetch(since)  # the network, outside any transaction
        except XError as exc:  # this read waits for the next poll; its cursor stays
            report.problems.append(f"{read.cursor}: {exc}")
            continue
        with db.write() as session:
            _store(session, timeline, read, account, settings, now=now, report=report)
            _move_cursor(session, read.cursor, timeline.newest_id or since, now=now)
        report.cursors[read.cursor] = timeline.newest_id or since
    return report


def _searcher(client: XClient, query: str) -> Callable[[str | None], Timeline]:
    return lambda since: client.search_recent(query, since_id=since)


def _cursor(db: Database, name: str) -> str | None:
    with db.read() as session:
        return session.scalar(select(XCursor.since_id).where(XCursor.endpoint == name))


def _move_cursor(session: Session, name: str, since_id: str | None, *, now: datetime) -> None:
    row = session.get(XCursor, name)
    if row is None:
        row = XCursor(endpoint=name)
        session.add(row)
    row.since_id, row.last_success_at = since_id, now


def classify(post: XPost, account: BrandAccount, read: _Read) -> tuple[str, dict[str, Any]] | None:
    """(event type, extra properties) of a post, or None for the brand's own posts."""
    if post.author_id == account.user_id:
        return None
    if post.replied_to and post.in_reply_to_user_id == account.user_id:
        return "reply", {"in_reply_to": post.replied_to}
    if post.quoted and post.quoted_author_id == account.user_id:
        return "quote", {"quoted": post.quoted}
    if read.about is None or account.username.lower() in post.mentions:
        return "mention", {}
    return "keyword", {"term": _term(post.text, read.terms), "about": read.about}


def _term(text: str, terms: Sequence[str]) -> str:
    """The most specific term the post contains ("acme coffee" over "acme")."""
    for term in sorted(terms, key=len, reverse=True):
        if re.search(r"(?<!\w)" + re.escape(term) + r"(?!\w)", text, re.IGNORECASE):
            return term
    return terms[0] if terms else ""  # X matched it in a way we do not (a link, a stem)


def _store(
    session: Session,
    timeline: Timeline,
    read: _Read,
    account: BrandAccount,
    settings: Settings,
    *,
    now: datetime,
    report: IngestReport,
) -> None:
    ids = [p.id for p in timeline.posts]
    seen = set(
        session.scalars(
            select(Event.external_id).where(Event.source == SOURCE, Event.external_id.in_(ids))
        )
    )
    seq = session.scalar(select(func.max(Event.seq))) or 0
    for post in sorted(timeline.posts, key=lambda p: (len(p.id), p.id)):  # oldest first
        kind = classify(post, account, read)
        if kind is None:
            continue
        if post.id in seen:
            report.already_seen += 1
            continue
        seen.add(post.id)
        customer = _author(session, post, now=now, report=report)
        seq += 1
        event = Event(
            customer_id=customer.id,
            type=kind[0],
            occurred_at=post.created_at or now,
            properties=_properties(post) | kind[1],
            external_id=post.id,
            source=SOURCE,
            seq=seq,
        )
        session.add(event)
        session.flush()
        report.events[event.type] += 1
        _honour_opt_out(session, event, customer, settings, now=now, report=report)


def _properties(post: XPost) -> dict[str, Any]:
    return {
        "post_id": post.id,
        "text": post.text,
        "url": post.url(),
        "author_id": post.author_id,
        "conversation_id": post.conversation_id or post.id,
    }


def _author(session: Session, post: XPost, *, now: datetime, report: IngestReport) -> Customer:
    """The customer who wrote the post; an unknown author becomes a prospect."""
    handle = post.author_username if HANDLE.match(post.author_username or "") else None
    found = None
    if handle is not None:
        found = session.scalar(select(Customer).where(Customer.handle_key == handle.lower()))
    external_id = f"x:{post.author_id}"
    if found is None:
        found = session.scalar(select(Customer).where(Customer.external_id == external_id))
    if found is not None:
        return found
    prospect = Customer(
        external_id=external_id,
        handle=handle,
        handle_key=handle.lower() if handle else None,
        kind="prospect",
        attributes={"x_user_id": post.author_id},
        created_at=now,
        updated_at=now,
    )
    session.add(prospect)
    session.flush()
    report.prospects.append(handle or external_id)
    return prospect


def _honour_opt_out(
    session: Session,
    event: Event,
    customer: Customer,
    settings: Settings,
    *,
    now: datetime,
    report: IngestReport,
) -> None:
    if opt_out_signal(event.type, event.properties, settings.policy.opt_out_words) is None:
        return
    session.add(
        Suppression(
            customer_id=customer.id,
            handle_key=customer.handle_key,
            reason=OPTED_OUT,
            created_at=now,
            until=None,
            source_event_id=event.id,
        )
    )
    withdraw_queued(session, customer.id, reason=OPTED_OUT, at=now)
    report.opted_out.append(customer.id)
