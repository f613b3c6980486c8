"""Reconciliation: the brand's own posts settle the messages whose fate we do not know.

Two kinds of message wait for it:
- an automatic reply left `unknown` (the request went out, no answer came back, or the
  daemon died while it was `sending`): X may have posted it;
- an `approved` review message: a person posts it from the Web Intent link.

The brand's recent posts (`GET /2/users/:id/tweets`, from a little before the oldest such
message) are matched by reply target and text; a match marks the message `sent` with the
post's id. X rewrites some of a text on the way (links become t.co links, `&` may come back
as `&amp;`), so texts are compared with links and spacing made uniform. A post settles at
most one message. No match changes nothing: an operator can still decide
(`rapport resolve`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from engine.config import Settings
from engine.history.db import Database
from engine.history.models import Contact
from engine.ledger.states import Channel, ContactState, transition
from engine.x.account import brand_account
from engine.x.client import XClient, XPost

LOOKBACK_SLACK = timedelta(hours=1)
MAX_LOOKBACK = timedelta(days=7)
URL = re.compile(r"https?://\S+")


@dataclass
class ReconcileReport:
    sent: dict[int, str] = field(default_factory=dict)  # contact id -> post URL
    still_open: int = 0


def normalise(text: str) -> str:
    """A text as X may hand it back, made comparable: links and spacing uniform."""
    return " ".join(URL.sub("<link>", html.unescape(text)).split())


def _open_contacts(db: Database) -> list[tuple[int, str, str, str | None, datetime, str]]:
    with db.read() as session:
        rows = session.execute(
            select(
                Contact.id,
                Contact.channel,
                Contact.text,
                Contact.in_reply_to,
                Contact.planned_at,
                Contact.state,
            )
            .where(
                or_(
                    and_(
                        Contact.channel == Channel.X.value,
                        Contact.state == ContactState.UNKNOWN.value,
                    ),
                    and_(
                        Contact.channel == Channel.REVIEW.value,
                        Contact.state == ContactState.APPROVED.value,
                    ),
                )
            )
            .order_by(Contact.planned_at, Contact.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def reconcile(
    db: Database, settings: Settings, *, now: datetime, client: XClient
) -> ReconcileReport:
    """Mark `sent` every open message the brand's recent posts show was posted."""
    report = ReconcileReport()
    waiting = _open_contacts(db)
    if not waiting:
        return report  # nothing to settle: no call to X
    account = brand_account(db, client, now=now)
    oldest = min(row[4] for row in waiting)
    start = max(oldest - LOOKBACK_SLACK, now - MAX_LOOKBACK)
    timeline = client.user_posts(account.user_id, start_time=start)  # outside any transaction
    posts: dict[tuple[str | None, str], list[XPost]] = {}
    for post in sorted(timeline.posts, key=lambda p: (len(p.id), p.id)):
        posts.setdefault((post.replied_to, normalise(post.text)), []).append(post)
    with db.write() as session:
        for contact_id, channel, text, in_reply_to, _planned, state in waiting:
            matches = posts.get((in_reply_to, normalise(text)))
            if not matches:
                report.still_open += 1
                continue
            post = matches.pop(0)  # one post settles one message
            moved = transition(
                session,
                contact_id,
                channel=channel,
                old=ContactState(state),
                new=ContactState.SENT,
                at=now,
                values={
                    "remote_id": post.id,
                    "sent_at": post.created_at or now,
                    "reason": f"found on X by reconciliation: {post.url()}",
                },
            )
            if moved:
                report.sent[contact_id] = post.url()
    return report
