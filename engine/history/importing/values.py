"""Checks for one cell at a time. Each raises RowError naming the field, the value and the fix."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from engine.clock import parse_time
from engine.zones import UnknownTimeZone, zone

HANDLE_HINT = "1-15 letters, digits or _"
_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
_EVENT_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
KINDS = ("customer", "prospect")
MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 200

# Numbers in CSV cells become numbers, but only when that cannot lose anything: an integer of
# at most 15 digits without leading zeros (exact in a float too), or a plain decimal. Longer
# digit strings (post ids), leading zeros (zip codes, ids) and exponents stay text.
_INT = re.compile(r"0|-?[1-9][0-9]{0,14}")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,14})\.[0-9]{1,15}")
_NON_FINITE = re.compile(r"[-+]?(?:nan|inf|infinity)", re.IGNORECASE)
_EXPONENT = re.compile(r"[-+]?\d+(?:\.\d*)?[eE][-+]?\d+")
NOT_FINITE = "is not a finite number (leave the cell empty for no value)"
# Identifiers are never quantities, whatever they look like: `id`, `*_id` and `in_reply_to`
# (a post id) stay text even when they are short digit strings.
_ALWAYS_TEXT = frozenset({"id", "in_reply_to", "text"})


class RowError(ValueError):
    """One bad cell; the importer adds the file and row number."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"field {field!r}: {message}")


def is_text_key(key: str) -> bool:
    return key in _ALWAYS_TEXT or key.endswith("_id")


def parse_cell(key: str, text: str) -> Any:
    """A CSV cell as a property or attribute value (see the rule above).

    A cell Python would read as a non-finite number (NaN, inf, -Infinity, 1e400) is a row
    problem: JSON cannot store it, and as text it would make every comparison quietly false.
    """
    if not text or is_text_key(key):
        return text
    first = text[0]
    if not first.isdigit() and first != "-":
        if first in "nNiI+" and _NON_FINITE.fullmatch(text):
            raise RowError(key, f"{text!r} {NOT_FINITE}")
        return text
    if _INT.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    if _NON_FINITE.fullmatch(text) or (
        _EXPONENT.fullmatch(text) and not math.isfinite(float(text))
    ):
        raise RowError(key, f"{text!r} {NOT_FINITE}")
    return text


def json_value(key: str, value: Any) -> Any:
    """A JSONL value, already typed; identifiers given as JSON numbers become text."""
    if is_text_key(key) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def text_of(field: str, value: Any) -> str:
    """A cell that must be text; JSONL may give integers for ids, which are read as text."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RowError(field, f"{value!r} is not text")


def required_text(field: str, value: Any, what: str) -> str:
    text = "" if value is None else text_of(field, value)
    if not text:
        raise RowError(field, f"is empty ({what})")
    return text


def external_id(field: str, value: Any, what: str) -> str:
    text = required_text(field, value, what)
    if len(text) > MAX_ID_LENGTH:
        raise RowError(field, f"{text[:20]!r}... is longer than {MAX_ID_LENGTH} characters")
    return text


def handle(field: str, value: Any) -> str | None:
    """'@Alice_1' -> 'Alice_1' (the case is kept; handle_key() is the unique key)."""
    text = "" if value is None else text_of(field, value)
    if not text:
        return None
    bare = text[1:] if text.startswith("@") else text
    if not _HANDLE.fullmatch(bare):
        raise RowError(field, f"{text!r} is not an X handle ({HANDLE_HINT}, e.g. @jane_doe)")
    return bare


def handle_key(bare: str) -> str:
    return bare.lower()


def timezone(field: str, value: Any) -> str | None:
    text = "" if value is None else text_of(field, value)
    if not text:
        return None
    try:
        zone(text)
    except UnknownTimeZone:
        raise RowError(
            field,
            f"{text!r} is not an IANA time zone (e.g. America/Los_Angeles, Europe/Paris)",
        ) from None
    return text


def kind(field: str, value: Any) -> str:
    text = "" if value is None else text_of(field, value)
    if not text:
        return "customer"
    if text not in KINDS:
        raise RowError(field, f"{text!r} is not a kind (use customer or prospect)")
    return text


def time(field: str, value: Any, *, required: bool) -> datetime | None:
    text = "" if value is None else text_of(field, value)
    if not text:
        if required:
            raise RowError(field, "is empty (use ISO 8601, e.g. 2026-03-01T09:30:00Z)")
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise RowError(field, str(exc)) from None


def event_type(field: str, value: Any) -> str:
    """Stored in lower case: rules and the product's own events (mention, opt_out) are
    lower case, so `Purchase` from a spreadsheet must be the same type as `purchase`."""
    text = required_text(field, value, "every event needs a type, e.g. purchase")
    if not _EVENT_TYPE.fullmatch(text):
        raise RowError(field, f"{text!r} is not an event type (letters, digits and _)")
    return text.lower()


def name(field: str, value: Any) -> str | None:
    text = "" if value is None else text_of(field, value)
    if len(text) > MAX_NAME_LENGTH:
        raise RowError(field, f"is longer than {MAX_NAME_LENGTH} characters")
    return text or None
