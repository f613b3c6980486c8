"""Importers for customer and event files (CSV or JSONL), streaming and idempotent.

Conventions (`rapport import events --help`), beyond the column lists:
- Empty CSV cells and JSON nulls are absent values, not empty strings.
- CSV cells become numbers only when nothing is lost: integers of up to 15 digits without
  a leading zero, and plain decimals. `id`, `*_id`, `in_reply_to` and `text` always stay
  text (a post id is an identifier, not a quantity), as do longer digit strings.
- Customer ids and event ids are text kept exactly as given (leading zeros too).
- Event types are stored in lower case (`Purchase` is `purchase`, the spelling rules use).
- Nothing is dropped without a word: a re-used event id with other content is a conflict
  (events.py), a byte that is not UTF-8 rejects its row (encoding.py), NaN/inf/1e400 are
  row problems (values.py), numeric-looking text among numbers is a warning (columns.py),
  a file of the other kind is refused (reading.py), many rejected rows of one kind are
  one line with a count (summary.py).
"""

from __future__ import annotations

from engine.history.importing.customers import import_customers
from engine.history.importing.events import content_id, import_events
from engine.history.importing.reading import FORMATS
from engine.history.importing.summary import ImportSummary

__all__ = ["FORMATS", "ImportSummary", "content_id", "import_customers", "import_events"]
