"""X's counting rules for a message: weighted length (twitter-text v3) and @mentions.

The length is X's, not ours: URLs count 23 whatever their size, most non-Latin characters
and every emoji (even a multi-code-point family) count 2. We delegate to twitter-text-parser,
whose v3 configuration passes the reference conformance cases (see tests/test_messages_length.py),
instead of re-deriving the emoji and URL grammars.
"""

from __future__ import annotations

import re

from twitter_text import extract_urls_with_indices, parse_tweet

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23

# twitter-text's mention grammar, simplified: an @ (or full-width ＠) not glued to a word,
# an e-mail local part or another @, followed by 1-20 handle characters. X handles have at
# most 15 characters, but twitter-text extracts up to 20, so we see what X would link.
_MENTION_START = r"(?<![A-Za-z0-9_!#$%&*@＠])[@＠]"
_MENTION = re.compile(_MENTION_START + r"([A-Za-z0-9_]{1,20})(?![A-Za-z0-9_@＠]|://)")


def weighted_length(text: str) -> int:
    """The length X checks against 280 (twitter-text v3 weighting)."""
    if not text:
        return 0
    if text.isascii():
        return _ascii_weighted_length(text)
    return int(parse_tweet(text).weightedLength)


def _ascii_weighted_length(text: str) -> int:
    """The same count for ASCII text, without twitter-text's emoji scan (which costs about
    half a millisecond a message and can never match ASCII): every character weighs 1,
    CR LF counts as one line break, and each URL counts 23 (tested against parse_tweet)."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    urls = extract_urls_with_indices(normalized)
    return len(normalized) + sum(URL_WEIGHT - len(url["url"]) for url in urls)


def mentions(text: str) -> list[str]:
    """The @handles X would link in `text`, in order, as written (without the @)."""
    return [match.group(1) for match in _MENTION.finditer(text)]


def without_mention(text: str, handle: str) -> str:
    """`text` with every @mention of `handle` removed and whitespace collapsed.

    Used to compare texts across recipients: X refuses a post identical to a recent one,
    and the recipient's handle alone does not make two posts different enough to matter.
    """
    pattern = re.compile(
        _MENTION_START + re.escape(handle) + r"(?![A-Za-z0-9_@＠])",
        re.IGNORECASE,
    )
    return " ".join(pattern.sub(" ", text).split())
