"""What differs between a stored event and a row that reuses its id, in a person's words.

"amount 10 → 100" tells the user which file is right; "different content" alone would
send them diffing files by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.history.models import json_text, sqlite_time

# (customer pk, customer external id, type, occurred_at, properties, event external id)
Row = tuple[int, str, str, datetime, dict[str, Any], str]
SHOWN = 4  # differences named in one message; the rest are counted

_ABSENT = object()


# An event as SQLite stores it: (customer pk, customer external id, type, occurred_at
# text, properties JSON text, event external id). Re-importing a file compares these
# strings with the ones the row would be written as, which is much cheaper than decoding
# every stored event; a mismatch is decoded to be sure (JSON key order may differ).
Raw = tuple[int, str, str, str, str, str]


@dataclass(frozen=True)
class Stored:
    """An event already in the database: its row id and what it says (decoded or raw)."""

    id: int
    row: Row | None = None
    raw: Raw | None = None

    def same_as(self, row: Row) -> bool:
        if self.raw is not None:
            pk, _, kind, at, props, _ = self.raw
            if (pk, kind, at, props) == (row[0], row[2], sqlite_time(row[3]), json_text(row[4])):
                return True
        return not differences(self.decoded(), row)

    def decoded(self) -> Row:
        if self.row is not None:
            return self.row
        assert self.raw is not None
        pk, customer, kind, at, props, event_id = self.raw
        moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
        return (pk, customer, kind, moment, json.loads(props), event_id)


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "(none)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return json.dumps(value, ensure_ascii=False)


def _changes(before: Row, after: Row) -> list[str]:
    found = []
    if before[0] != after[0]:
        found.append(f"customer {before[1]!r} → {after[1]!r}")
    for name, old, new in (("type", before[2], after[2]), ("occurred_at", before[3], after[3])):
        if old != new:
            found.append(f"{name} {_shown(old)} → {_shown(new)}")
    old_props, new_props = before[4], after[4]
    for key in [*old_props, *(k for k in new_props if k not in old_props)]:
        old, new = old_props.get(key, _ABSENT), new_props.get(key, _ABSENT)
        if old is _ABSENT or new is _ABSENT or not _same(old, new):
            found.append(f"{key} {_shown(old)} → {_shown(new)}")
    return found


def _same(old: Any, new: Any) -> bool:
    """Equal as stored: 1 and 1.0 are one JSON number, but true is not 1."""
    if isinstance(old, bool) or isinstance(new, bool):
        return old is new
    return bool(old == new)


def differences(before: Row, after: Row) -> str:
    """'' when the two say the same; else the first few differences, comma-separated."""
    found = _changes(before, after)
    if len(found) > SHOWN:
        found = [*found[:SHOWN], f"{len(found) - SHOWN} more"]
    return ", ".join(found)
