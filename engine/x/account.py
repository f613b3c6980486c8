"""The brand's X account: its user id, asked once of `GET /2/users/me` and kept (x_credentials).

The handle in config.yaml names the brand for templates; the id is what the mentions and
own-posts endpoints take, and what tells a reply to the brand from a reply to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.history.db import Database
from engine.history.models import XCredentials
from engine.x.client import XClient
from engine.x.credentials import ROW


@dataclass(frozen=True)
class BrandAccount:
    user_id: str
    username: str


def brand_account(db: Database, client: XClient, *, now: datetime) -> BrandAccount:
    with db.read() as session:
        row = session.get(XCredentials, ROW)
        if row is not None and row.user_id and row.username:
            return BrandAccount(row.user_id, row.username)
    me = client.me()  # the network, outside any transaction
    with db.write() as session:
        row = session.get(XCredentials, ROW)
        if row is None:
            row = XCredentials(name=ROW, updated_at=now)
            session.add(row)
        row.user_id, row.username, row.updated_at = me.id, me.username, now
    return BrandAccount(me.id, me.username)
