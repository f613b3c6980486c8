"""One way to get a client for the configured X account (the daemon and commands use it)."""

from __future__ import annotations

from engine.config import Settings
from engine.history.db import Database
from engine.x.client import XClient
from engine.x.credentials import StoredToken


def open_client(db: Database, settings: Settings) -> XClient:
    """An XClient on `channels.x.base_url`, its token from the environment or, with
    `refresh_env`, refreshed and kept in the database. Close it (or use `with`)."""
    timeout = settings.x.timeout.total_seconds()
    return XClient(
        settings.x.base_url, StoredToken(db, settings.x, timeout=timeout), timeout=timeout
    )
