"""The customer, their events, their past contacts and their suppressions, as facts.

The evaluation reads these once per batch (engine/facts/loading.py) and hands them to
the enrolment machine, the matcher's fact sheets and the contact policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CustomerFacts:
    id: int  # customers.id (database key)
    external_id: str
    handle: str | None
    timezone: str  # resolved: the customer's, else settings.timezone
    kind: str  # customer | prospect
    consent_at: datetime | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class EventFacts:
    id: int
    type: str
    occurred_at: datetime
    properties: Mapping[str, Any]
    external_id: str


@dataclass(frozen=True)
class PastContact:
    """A ledger row that counts for caps, min_gap and one-reply-per-post."""

    cadence: str
    planned_at: datetime
    channel: str
    in_reply_to: str | None
    queued: bool = False  # still waiting to leave: an opt-out or complaint withdraws it


@dataclass(frozen=True)
class SuppressionFacts:
    reason: str  # opted_out | suppressed | complaint | ...
    until: datetime | None  # None = forever
