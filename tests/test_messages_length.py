"""Weighted length against twitter-text's reference conformance cases, and @mentions.

The cases come from twitter/twitter-text `conformance/validate.yml` (v3.1.0),
section WeightedTweetsWithDiscountedEmojiCounterTest: the v3 counting X uses (URLs 23,
CJK and every emoji 2, including ZWJ sequences, flags and keycaps).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from engine.messages import MAX_WEIGHTED_LENGTH, duplicate_texts, mentions, weighted_length

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
CJK_160 = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。"
    "朱雀桥边野草花，乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。"
    "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。"
    "独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。"
)
X10 = "xxxxxxxxxx-"

CONFORMANCE = [
    ("Regular Tweet with url", "Hi http://test.co", 26),
    ("Just url", "http://test.co", 23),
    ("Long tweet, overflow at char index 280", "285 chars-" + X10 * 25, 285),
    (
        "Long tweet with url in the middle",
        "285 chars- http://www.twitter.com/jack " + X10 * 24,
        299,
    ),
    ("Long tweet with url at the end", X10 * 24 + " http://www.twitter.com/jack ", 289),
    ("10 url string, no overflow", "https://www.twitter.com/aloha " * 10, 240),
    ("160 CJK char", CJK_160, 320),
    ("160 emoji char", "\U0001f637" * 160, 320),
    ("3 latin char + 160 CJK char", "the" + CJK_160, 323),
    ("282 chars with a normalized character", "282 chars-" + X10 * 24 + "xxxxxA\u0301x", 281),
    ("single, double word and ZWJ family", "H\U0001f431\u263a" + FAMILY, 7),
    ("emoji inside the BMP", "\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
    ("skin tone and ZWJ profession", "\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),
    ("140 family emoji", FAMILY * 140, 280),
    ("keycap with a latin leading character", "1\u20e3", 2),
    (
        "Unicode 10.0 emoji",
        "Unicode 10.0 emoji: \U0001f92a; \U0001f9d5; \U0001f9d5\U0001f3fe; \U0001f3f4"
        "\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        34,
    ),
    ("Unicode 9.0 emoji", "Unicode 9.0 emoji: \U0001f920; \U0001f483; \U0001f483\U0001f3fe", 29),
    (
        "64 character domain without protocol is not a URL",
        "randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com",
        68,
    ),
    (
        "general punctuation u2000-200B",
        "This is a tweet with general punctuation characters: "
        "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b"
        " ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷",
        110,
    ),
]


@pytest.mark.parametrize(("description", "text", "expected"), CONFORMANCE)
def test_weighted_length_matches_twitter_text_conformance(
    description: str, text: str, expected: int
) -> None:
    assert weighted_length(text) == expected, description


def test_message_with_url_emoji_and_cjk() -> None:
    text = "@jane_doe ありがとう 🎉 https://example.com/a/very/long/path?with=query"
    # "@jane_doe " 10 + five kana 5×2 + " 🎉 " 1+2+1 + the URL 23
    assert weighted_length(text) == 47


def test_limit_and_empty() -> None:
    assert MAX_WEIGHTED_LENGTH == 280
    assert weighted_length("") == 0


def test_mentions_follow_x_rules() -> None:
    text = "@Jane_Doe hi, cc @bob and ＠carol; mail hi@brand.com; not @ alone"
    assert mentions(text) == ["Jane_Doe", "bob", "carol"]


def test_duplicate_texts_ignore_the_recipient_handle() -> None:
    groups = duplicate_texts(
        [
            ("ann", "@ann Thanks for your order!"),
            ("Bob", "@bob  Thanks for your order!"),
            ("cy", "@cy Thanks for your order, Cy!"),
            ("dee", "Thanks for your order! @dee"),
        ]
    )
    assert groups == [{"ann", "Bob", "dee"}]


ASCII_PIECES = st.sampled_from(
    [
        "hi ", "Thanks!", "see https://example.com/a/b?c=1 ", "acme.com ", "www.acme.co.uk/x ",
        "\r\n", "\r", "\n", "@handle ", "a.b ", "x" * 40, "http://t.co/abc ", "email@acme.com ",
        "1.5 ", "#tag ", "$CASH ", "..", "\t",
    ]
)  # fmt: skip


@given(st.lists(st.one_of(ASCII_PIECES, st.text(st.characters(max_codepoint=127))), max_size=12))
@settings(max_examples=300, deadline=None)
def test_ascii_fast_path_counts_like_twitter_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert weighted_length(text) == (parse_tweet(text).weightedLength if text else 0)
