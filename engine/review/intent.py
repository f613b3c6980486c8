"""Links between the review queue and X: the Web Intent that opens a prefilled post, and
the URL of a post a person made.

X forbids uninvited automated @mentions, so a reviewed message leaves through X's own
compose box: `https://x.com/intent/post?text=…&in_reply_to=…`. The text is percent-encoded
whole (spaces as %20, `&`, `#`, `+` and newlines escaped) so what X shows is exactly what
was approved; `in_reply_to` is there only when the message answers a post.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from engine.errors import RapportError

INTENT_BASE = "https://x.com/intent/post"
# X post ids are 64-bit integers written in decimal.
_POST_ID = re.compile(r"\d{1,19}")
_POST_HOSTS = frozenset(
    {"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com"}
)
_POST_PATH = re.compile(r"/(?:[A-Za-z0-9_]{1,15}|i(?:/web)?)/status(?:es)?/(\d{1,19})/?")


def intent_url(text: str, in_reply_to: str | None = None) -> str:
    """The Web Intent link that opens X's compose box with `text` (and the post it answers)."""
    query = "text=" + quote(text, safe="")
    if in_reply_to is not None and _POST_ID.fullmatch(in_reply_to):
        query += "&in_reply_to=" + in_reply_to
    return f"{INTENT_BASE}?{query}"


def post_id_of(url: str) -> str:
    """The post id in the URL of an X post; RapportError for anything else."""
    parts = urlsplit(url.strip())
    match = _POST_PATH.fullmatch(parts.path)
    if (
        parts.scheme not in ("https", "http")
        or parts.netloc.lower() not in _POST_HOSTS
        or not match
    ):
        raise RapportError(
            f"{url!r} is not the URL of an X post",
            hint="copy it from the post, e.g. https://x.com/acme/status/1790000000000000000",
        )
    return match.group(1)


def reply_target(post_id: object) -> str | None:
    """A trigger event's post id as `in_reply_to`, when it is one (digits only)."""
    text = str(post_id) if isinstance(post_id, int | str) else ""
    return text if _POST_ID.fullmatch(text) else None
