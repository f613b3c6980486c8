"""X Web Intent links and post URLs: any text survives the round trip exactly."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import RapportError
from engine.review.intent import intent_url, post_id_of


@given(
    st.text(min_size=1, max_size=300),
    st.one_of(st.none(), st.from_regex(r"\d{1,19}", fullmatch=True)),
)
def test_the_intent_carries_the_text_exactly(text: str, post: str | None) -> None:
    link = urlsplit(intent_url(text, post))
    assert (link.scheme, link.netloc, link.path) == ("https", "x.com", "/intent/post")
    query = parse_qs(link.query, keep_blank_values=True, strict_parsing=True)
    expected = {"text": [text]} | ({"in_reply_to": [post]} if post else {})
    assert query == expected
    assert all(ch not in link.query for ch in " \n#+")


def test_only_a_post_id_is_a_reply_target() -> None:
    assert intent_url("@a hi", "12&text=evil") == "https://x.com/intent/post?text=%40a%20hi"


@pytest.mark.parametrize(
    ("url", "post"),
    [
        ("https://x.com/acme/status/1790000000000000000", "1790000000000000000"),
        ("https://twitter.com/acme/status/42?s=20", "42"),
        ("https://mobile.x.com/acme_co/status/7/", "7"),
        ("https://x.com/i/web/status/99", "99"),
    ],
)
def test_a_post_url_gives_its_id(url: str, post: str) -> None:
    assert post_id_of(url) == post


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/acme",
        "https://x.com.evil.example/acme/status/1",
        "javascript:alert(1)//x.com/acme/status/1",
        "https://x.com/acme/status/abc",
        "ftp://x.com/acme/status/1",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(RapportError) as refused:
        post_id_of(url)
    assert str(refused.value) == (
        f"{url!r} is not the URL of an X post"
        " (copy it from the post, e.g. https://x.com/acme/status/1790000000000000000)"
    )
