"""`rapport resolve ID --sent URL | --not-sent`: an operator settles an `unknown` message.

`unknown` means the request to X went out and no answer came back (or the daemon died
while the message was `sending`): X may have posted it, so it is never resent
automatically. Reconciliation (engine/x/reconcile.py) settles most such rows by finding
the post; an operator settles the rest, after looking at the brand's timeline:

- `--sent URL`: it was posted; the post id comes from the URL (`https://x.com/<user>/status/<id>`);
- `--not-sent`: it was not; the message becomes `failed` with the operator's reason and is
  never resent (a new occurrence needs a new enrolment).

Only an `unknown` row can be resolved; the change goes through `transition()`, so a
reconciliation settling the same row at the same moment wins or loses cleanly.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from engine.errors import RapportError
from engine.history.db import Database
from engine.history.models import Contact
from engine.ledger.states import ContactState, transition

X_HOSTS = frozenset(
    {"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com"}
)
# /<user>/status/<id>, /i/status/<id>, /i/web/status/<id>, optionally followed by /photo/1…
STATUS_PATH = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}|i|i/web)/status(?:es)?/(\d{1,20})(?:/.*)?$")
NOT_SENT_REASON = "not sent: an operator checked X (rapport resolve --not-sent)"
URL_HINT = "give the post's address, e.g. https://x.com/acme/status/1799999999999999999"


def post_id_from_url(url: str) -> str:
    """The post id in an X post's address; anything else is refused with the reason."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or parts.hostname not in X_HOSTS:
        raise RapportError(f"--sent {url!r} is not the address of a post on X", hint=URL_HINT)
    found = STATUS_PATH.match(parts.path)
    if found is None:
        raise RapportError(
            f"--sent {url!r} is an X address but not a post's (no /status/<id>)", hint=URL_HINT
        )
    return found.group(1)


def resolve(db: Database, contact_id: int, *, sent_url: str | None, now: datetime) -> Contact:
    """Settle one `unknown` message: sent (with the post at `sent_url`) or, with no URL,
    failed. Returns the row as it now is."""
    post_id = post_id_from_url(sent_url) if sent_url is not None else None
    with db.write() as session:
        row = session.get(Contact, contact_id)
        if row is None:
            raise RapportError(f"no message with id {contact_id}", hint="see `rapport status`")
        if row.state != ContactState.UNKNOWN:
            raise RapportError(
                f"message {contact_id} is {row.state}, not unknown: only a message whose "
                "sending is uncertain can be resolved",
                hint="nothing to do" if ContactState(row.state).final else "leave it to delivery",
            )
        if post_id is not None:
            new = ContactState.SENT
            values = {"remote_id": post_id, "sent_at": now, "reason": f"an operator: {sent_url}"}
        else:
            new, values = ContactState.FAILED, {"reason": NOT_SENT_REASON}
        channel = row.channel
        moved = transition(
            session,
            contact_id,
            channel=channel,
            old=ContactState.UNKNOWN,
            new=new,
            at=now,
            values=values,
        )
        if not moved:  # reconciliation settled it between our read and our write
            raise RapportError(f"message {contact_id} was settled meanwhile", hint="look again")
        session.expire(row)
        session.refresh(row)
        session.expunge(row)
        return row
