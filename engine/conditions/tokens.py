"""Tokenizer for the condition language: a hand-written scanner, no eval, no Python ast."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from engine.conditions.errors import ConditionError
from engine.durations import DURATION_HINT, is_duration, parse_duration

TokenKind = Literal["number", "duration", "string", "ident", "op", "end"]

KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "true", "false", "null"})
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_WORD = re.compile(r"[A-Za-z0-9_]*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", "-")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t"}
_EXPONENT = re.compile(r"[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+")
# Characters people bring from other languages or word processors, and what we write.
_CHARACTER_HINTS = {
    "=": "use == to compare",
    "&": "use and to join conditions",
    "|": "use or to join conditions",
    "!": "use not (or != to compare)",
    "\u2265": "use >=",
    "\u2264": "use <=",
    "\u2260": "use !=",
    **dict.fromkeys("\u201c\u201d\u2018\u2019", 'use straight quotes (")'),
}


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    offset: int
    value: int | float | str | timedelta | None = None

    def describe(self) -> str:
        return "the end of the condition" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif "0" <= char <= "9":  # str.isdigit() also accepts "²" and "٣"
            token = _number(text, pos)
            tokens.append(token)
            pos += len(token.text)
        elif char in "\"'":
            token = _string(text, pos)
            tokens.append(token)
            pos += len(token.text)
        elif (m := _IDENT.match(text, pos)) is not None:
            _refuse_capital_keyword(m.group(), pos)
            tokens.append(Token("ident", m.group(), pos))
            pos = m.end()
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, pos)), None)
            if op is None:
                hint = f"; {_CHARACTER_HINTS[char]}" if char in _CHARACTER_HINTS else ""
                raise ConditionError(pos, f"unexpected character {char!r}{hint}")
            tokens.append(Token("op", op, pos))
            pos += len(op)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _refuse_capital_keyword(word: str, pos: int) -> None:
    """AND, OR, NOT, TRUE... are written in lower case; say so rather than "unknown name"."""
    lower = word.lower()
    if lower != word and lower in KEYWORDS:
        raise ConditionError(pos, f"{word!r} is written in lower case: {lower}")


def _number(text: str, pos: int) -> Token:
    if (exponent := _EXPONENT.match(text, pos)) is not None:
        raise ConditionError(
            pos,
            f"{exponent.group()!r} is not a number or a duration "
            f"(write numbers as digits, e.g. {_as_digits(exponent.group())})",
        )
    number = _NUMBER.match(text, pos)
    assert number is not None  # the caller saw a digit
    word_end = _WORD.match(text, number.end())
    end = word_end.end() if word_end else number.end()
    if end == number.end():
        raw = number.group()
        return Token("number", raw, pos, float(raw) if "." in raw else int(raw))
    raw = text[pos:end]
    if not is_duration(raw):
        raise ConditionError(pos, f"{raw!r} is not a duration ({DURATION_HINT})")
    try:
        return Token("duration", raw, pos, parse_duration(raw))
    except ValueError:  # too large for a timedelta: the parser says "too long" in context
        return Token("duration", raw, pos, timedelta.max)


def _string(text: str, pos: int) -> Token:
    quote = text[pos]
    chars: list[str] = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            return Token("string", text[pos : i + 1], pos, "".join(chars))
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            chars.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        chars.append(char)
        i += 1
    raise ConditionError(pos, f"unterminated string: {quote!r} is never closed")


def _as_digits(exponent: str) -> str:
    """'1e5' -> '100000': the number written out, or an example when that is unwieldy."""
    digits = format(Decimal(exponent), "f")
    return digits if len(digits) <= 24 else "100000"
