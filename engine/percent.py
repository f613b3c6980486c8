"""Shares written as percentages ('10%', '2.5%'), the way marketers write holdouts."""

from __future__ import annotations

import re

_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)%")
PERCENT_HINT = "use a percentage between 0% and 100%, e.g. 10% or 2.5%"


def parse_percent(text: object) -> float:
    """'10%' -> 0.1. Raises ValueError with a message that shows the format."""
    if not isinstance(text, str) or not (m := _PERCENT.fullmatch(text.strip())):
        raise ValueError(f"{text!r} is not a percentage ({PERCENT_HINT})")
    value = float(m.group(1))
    if value > 100:
        raise ValueError(f"{text!r} is more than 100% ({PERCENT_HINT})")
    return value / 100


def format_percent(share: float) -> str:
    return f"{share * 100:g}%"
