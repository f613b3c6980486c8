"""The brand account's OAuth 2.0 user-context token, refreshed before it expires.

Without `channels.x.refresh_env` the token in the variable `credentials_env` names is used
as is (the operator renews it). With it, Rapport refreshes the token itself
(`POST /2/oauth2/token`, grant_type=refresh_token) a minute before it expires, or at once
after a 401. X rotates the refresh token at each refresh and the old one stops working,
so the new one is stored in the database (table x_credentials) before it is used: a
restart reads it from there, the environment's refresh token serves only the first time.

The refresh is an HTTP call: it never runs inside a database transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from engine import clock
from engine.config import XChannel
from engine.errors import RapportError
from engine.history.db import Database
from engine.history.models import XCredentials

ROW = "brand"
REFRESH_MARGIN = timedelta(seconds=60)
TOKEN_ENDPOINT = "POST /2/oauth2/token"


def _env(name: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RapportError(
            f"the environment variable {name} is empty or not set",
            hint=f"put the brand account's {what} there (see docs/x.md)",
        )
    return value


@dataclass
class _Token:
    access: str
    expires_at: datetime | None


class StoredToken:
    """A token provider for XClient (engine/x/client.py) backed by the database."""

    def __init__(
        self,
        db: Database,
        channel: XChannel,
        *,
        now: Callable[[], datetime] = clock.now,
        timeout: float = 10.0,
    ) -> None:
        self.db, self.channel, self.now, self.timeout = db, channel, now, timeout
        self._token: _Token | None = None

    def __call__(self, force_refresh: bool = False) -> str:
        if self.channel.refresh_env is None:
            return _env(self.channel.credentials_env, "OAuth 2.0 access token")
        token = self._token or self._stored()
        fresh = token is not None and (
            token.expires_at is None or token.expires_at > self.now() + REFRESH_MARGIN
        )
        if token is None or force_refresh or not fresh:
            token = self.refresh()
        self._token = token
        return token.access

    def _stored(self) -> _Token | None:
        with self.db.read() as session:
            row = session.get(XCredentials, ROW)
            if row is None or not row.access_token:
                return None
            return _Token(row.access_token, row.access_expires_at)

    def _refresh_token(self) -> str:
        with self.db.read() as session:
            stored = session.scalar(
                select(XCredentials.refresh_token).where(XCredentials.name == ROW)
            )
        assert self.channel.refresh_env is not None
        return stored or _env(self.channel.refresh_env, "OAuth 2.0 refresh token")

    def refresh(self) -> _Token:
        """Trade the refresh token for a new pair, and store the pair at once."""
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token()}
        if self.channel.client_id_env:
            form["client_id"] = _env(self.channel.client_id_env, "OAuth 2.0 client id")
        url = self.channel.base_url.rstrip("/") + "/2/oauth2/token"
        try:
            response = httpx.post(url, data=form, timeout=self.timeout)
        except httpx.TransportError as exc:
            raise RapportError(f"{TOKEN_ENDPOINT}: cannot refresh the X token ({exc})") from None
        body = _body(response)
        if response.status_code != 200 or not isinstance(body.get("access_token"), str):
            why = body.get("error_description") or body.get("error") or response.reason_phrase
            raise RapportError(
                f"{TOKEN_ENDPOINT}: X refused to refresh the token (HTTP {response.status_code}:"
                f" {why})",
                hint=f"authorise the app again and put a new refresh token in "
                f"{self.channel.refresh_env}",
            )
        now = self.now()
        expires_in = body.get("expires_in")
        expires_at = now + timedelta(seconds=int(expires_in)) if expires_in else None
        rotated = body.get("refresh_token")
        self._save(body["access_token"], expires_at, rotated if isinstance(rotated, str) else None)
        return _Token(body["access_token"], expires_at)

    def _save(self, access: str, expires_at: datetime | None, rotated: str | None) -> None:
        with self.db.write() as session:
            row = session.get(XCredentials, ROW)
            if row is None:
                row = XCredentials(name=ROW, updated_at=self.now())
                session.add(row)
            row.access_token, row.access_expires_at = access, expires_at
            if rotated:
                row.refresh_token = rotated
            row.updated_at = self.now()


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
