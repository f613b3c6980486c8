"""Opt-out words: X requires honouring "stop" at once (docs/compliance.md).

The evaluation asks `opt_out_signal` of each of a customer's events (an `opt_out` event,
or an opt-out word in a reply or mention) to write a suppression immediately; the
suppression stage asks it too, of the candidate's trigger, so a reply to "@acme stop" is
never sent even before that row exists.

Matching is whole word or phrase and case-insensitive: "STOP", "stop!", "please stop."
match; "stopped" and "unstoppable" don't. Words of a phrase may be separated by any
whitespace or a hyphen ("opt-out"). We err on the side of the customer: "don't stop"
still matches, because a missed opt-out breaks X's rules and a false one costs a message.

Text and words are compared after Unicode NFKC folding, so the full-width "ＳＴＯＰ" a phone
keyboard in CJK mode types, ligatures and other compatibility spellings are the plain word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

# The events whose text is the customer speaking to the brand (docs/x.md, ingestion).
OPT_OUT_TEXT_EVENT_TYPES = ("reply", "mention")
OPT_OUT_EVENT = "opt_out"


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=64)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation with a group per word, compiled once per configured word list."""
    alternatives = []
    for word in words:
        pieces = [re.escape(piece) for piece in _folded(word).split()]
        alternatives.append("(" + r"[\s\-]+".join(pieces) + ")")
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def opt_out_word_in(text: str, words: Sequence[str]) -> str | None:
    """The first configured word or phrase found in `text` (as configured), else None."""
    usable = tuple(word for word in words if word.strip())
    if not text or not usable:
        return None
    match = _pattern(usable).search(_folded(text))
    if match is None or match.lastindex is None:
        return None
    return usable[match.lastindex - 1]


def opt_out_in_event(
    event_type: str, properties: Mapping[str, Any], words: Sequence[str]
) -> str | None:
    """The opt-out word in a reply's or mention's text; None for any other event."""
    if event_type not in OPT_OUT_TEXT_EVENT_TYPES:
        return None
    text = properties.get("text")
    return opt_out_word_in(text, words) if isinstance(text, str) else None


def opt_out_signal(
    event_type: str, properties: Mapping[str, Any], words: Sequence[str]
) -> str | None:
    """How an event opts the customer out, for a decision's detail; None when it does not.

    One answer for the evaluation (which writes the suppression) and the suppression stage
    (which must not wait for that row), so the two can never disagree on what "stop" is.
    """
    if event_type == OPT_OUT_EVENT:
        return "an opt_out event"
    word = opt_out_in_event(event_type, properties, words)
    return None if word is None else f"{word!r} in the customer's {event_type}"
