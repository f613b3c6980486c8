"""Idempotency keys and opt-out words: the two small functions the evaluation relies on."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.policy import idempotency_key, opt_out_in_event, opt_out_word_in

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WORDS = ("stop", "unsubscribe", "opt out")


def test_key_is_sha256_hex_and_pinned() -> None:
    key = idempotency_key("c1", "thanks", START, "thanks")
    assert len(key) == 64 and int(key, 16) >= 0
    # Pinned: a changed scheme would let every open occurrence be produced a second time.
    assert key == idempotency_key(
        "c1", "thanks", START.astimezone(ZoneInfo("Asia/Tokyo")), "thanks"
    )
    assert key == ("6329ac6e79138e8bebe247c737802b610af20cf7f364bc0c7e56c36b150916e0")


def test_key_includes_the_summoning_post() -> None:
    one = idempotency_key("c1", "mention-reply", START, "reply", "111")
    other = idempotency_key("c1", "mention-reply", START, "reply", "222")
    assert one != other
    assert one != idempotency_key("c1", "mention-reply", START, "reply")


Key = tuple[str, str, datetime, str, str | None]
fields = st.tuples(
    st.text(max_size=6),
    st.text(max_size=6),
    st.datetimes(timezones=st.just(UTC)),
    st.text(max_size=6),
    st.none() | st.text(max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(fields, fields)
def test_different_occurrences_never_share_a_key(a: Key, b: Key) -> None:
    assert (idempotency_key(*a) == idempotency_key(*b)) == (a == b)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("STOP", "stop"),
        ("stop!", "stop"),
        ("please stop.", "stop"),
        ("@acme Stop sending me this", "stop"),
        ("#stop", "stop"),
        ("how do I unsubscribe?", "unsubscribe"),
        ("I want to opt out", "opt out"),
        ("I want to OPT  OUT now", "opt out"),
        ("opt-out please", "opt out"),
        ("stopped by the shop today", None),
        ("unstoppable coffee", None),
        ("nonstop flavour", None),
        ("optout", None),
        ("", None),
    ],
)
def test_opt_out_words_match_whole_words_and_phrases(text: str, found: str | None) -> None:
    assert opt_out_word_in(text, WORDS) == found


def test_opt_out_returns_the_configured_spelling_and_ignores_blank_words() -> None:
    assert opt_out_word_in("ARRÊTEZ!", ["arrêtez"]) == "arrêtez"
    assert opt_out_word_in("stop", ["", "  "]) is None
    assert opt_out_word_in("stop", []) is None
    assert opt_out_word_in("a.b stop", ["a.b"]) == "a.b"  # regex characters are literal
    assert opt_out_word_in("axb", ["a.b"]) is None


def test_opt_out_words_match_after_nfkc_folding() -> None:
    """A full-width STOP (CJK keyboards) is a stop; so is a configured full-width word."""
    assert opt_out_word_in("ＳＴＯＰ", WORDS) == "stop"
    assert opt_out_word_in("@acme ｕｎｓｕｂｓｃｒｉｂｅ please", WORDS) == "unsubscribe"
    assert opt_out_word_in("stop", ["ＳＴＯＰ"]) == "ＳＴＯＰ"
    assert opt_out_in_event("reply", {"text": "ＳＴＯＰ！"}, WORDS) == "stop"


def test_opt_out_only_in_what_the_customer_said_to_the_brand() -> None:
    assert opt_out_in_event("reply", {"text": "stop", "in_reply_to": "1"}, WORDS) == "stop"
    assert opt_out_in_event("mention", {"text": "@acme unsubscribe"}, WORDS) == "unsubscribe"
    assert opt_out_in_event("keyword", {"text": "stop"}, WORDS) is None
    assert opt_out_in_event("mention", {"text": None}, WORDS) is None
    assert opt_out_in_event("mention", {}, WORDS) is None
