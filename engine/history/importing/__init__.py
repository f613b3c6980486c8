"""Importers for customer and event files (CSV or JSONL), streaming and idempotent.

Conventions (DESIGN §8), beyond the column lists:
- Empty CSV cells and JSON nulls are absent values, not empty strings.
- CSV cells become numbers only when nothing is lost: integers of up to 15 digits without
  a leading zero, and plain decimals. `id`, `*_id`, `in_reply_to` and `text` always stay
  text (a post id is an identifier, not a quantity), as do longer digit strings.
- Customer ids and event ids are text kept exactly as given (leading zeros too).
"""

from __future__ import annotations

from engine.history.importing.customers import import_customers
from engine.history.importing.events import content_id, import_events
from engine.history.importing.reading import FORMATS
from engine.history.importing.summary import ImportSummary

__all__ = ["FORMATS", "ImportSummary", "content_id", "import_customers", "import_events"]
