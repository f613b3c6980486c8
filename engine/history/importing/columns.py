"""Numeric-looking text in a column that otherwise holds numbers: warned, with examples.

`$25` or `1,234.50` among plain amounts is imported as the text it is (guessing a currency
or a thousands separator could be wrong), but a condition such as `event.amount >= 20`
is quietly false for text. So the import ends with one warning per such column: how many
cells, and the first few with their lines, so the file can be fixed and imported again.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from engine.history.importing.values import is_text_key

EXAMPLES = 3

# Currency signs, thousands separators, percent signs, exponents, leading zeros, and the
# words Python reads as non-finite numbers.
_LOOKS_NUMERIC = re.compile(
    r"\s*[-+]?\s*[$€£¥]?\s*[-+]?\d[\d,' _]*(?:\.\d+)?\s*(?:%|[$€£¥]|[A-Z]{3})?\s*"
    r"|[-+]?\d+(?:\.\d*)?[eE][-+]?\d+"
    r"|[-+]?(?i:nan|inf|infinity)"
)


class NumberColumns:
    """Per column: how many numbers, and the numeric-looking text cells (first few kept)."""

    def __init__(self, *, csv: bool = False) -> None:
        self.numbers: Counter[str] = Counter()
        self.texts: Counter[str] = Counter()
        self.examples: dict[str, list[tuple[str, int]]] = {}
        # In a CSV file an id column (`*_id`, `id`, `text`, …) is never parsed as a number,
        # so its cells need no look; JSONL may give an id as a number, so there all are seen.
        self._csv = csv
        self._text_keys: dict[str, bool] = {}

    def see(self, values: dict[str, Any], line: int) -> None:
        text_keys = self._text_keys
        for key, value in values.items():
            text_key = text_keys.get(key)
            if text_key is None:
                text_key = text_keys[key] = self._csv and is_text_key(key)
            if text_key:  # CSV ids stay text (values.parse_cell): never a number to warn about
                continue
            kind = type(value)
            if kind is int or kind is float:
                self.numbers[key] += 1
            elif kind is str and value[:1] in _FIRST and _LOOKS_NUMERIC.fullmatch(value):
                self.texts[key] += 1
                found = self.examples.setdefault(key, [])
                if len(found) < EXAMPLES:
                    found.append((value, line))

    def warnings(self) -> list[str]:
        return [
            f"column {key!r} holds numbers, but {count} cell{'s' if count != 1 else ''}"
            f" {'are' if count != 1 else 'is'} text that looks like a number: "
            + ", ".join(f"{value!r} (line {line})" for value, line in self.examples[key])
            + "; conditions compare them as text, not numbers"
            " (write plain numbers such as 1234.50)"
            for key, count in self.texts.items()
            if self.numbers[key]
        ]


# What a numeric-looking cell can start with: a cheap test before the regex.
_FIRST = frozenset("0123456789+-$€£¥ nNiI")
