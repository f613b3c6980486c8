"""Idempotency keys: one occurrence of a step is produced once, whatever happens.

The ledger's unique key is the only real guard against duplicates (docs/time.md, Never twice), so
the key is built from what identifies the occurrence in the marketer's words and
survives rule edits: customer, cadence slug, enrolment start, step name. For the
automatic channel the summoning post's id is part of it, so two mentions in one
enrolment are two occurrences, and one post can never get two replies from a step.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from engine.clock import as_utc


def idempotency_key(
    customer_external_id: str,
    cadence: str,
    enrolment_start: datetime,
    step: str,
    in_reply_to: str | None = None,
) -> str:
    """sha256 hex (64 chars). JSON framing, so no field can bleed into the next."""
    start = as_utc(enrolment_start).isoformat(timespec="microseconds")
    parts = [customer_external_id, cadence, start, step]
    if in_reply_to is not None:
        parts.append(in_reply_to)
    payload = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
