"""How an input file's bytes become text, and what to say when some of them are not UTF-8.

Files are UTF-8 (a UTF-8 byte-order mark is skipped). A UTF-16 file with its byte-order
mark, as Excel's "Unicode text" writes, is read as UTF-16; one without a mark is named,
since guessing its byte order could import garbage.

A byte that is not UTF-8 does not stop the import: the text layer decodes it as a lone
surrogate (Python's `surrogateescape`), and the row that holds it is rejected by its line,
with the text it would have in Windows-1252 (the usual culprit: a spreadsheet saved as
"CSV" on Windows) so the user can see what happened and re-save the file as UTF-8.
"""

from __future__ import annotations

import re

from engine.errors import RapportError

UTF8_FIX = "save the file as UTF-8"
_ESCAPED = re.compile("[\udc80-\udcff]")
_SAMPLE = 4096


def encoding_of(display: str, start: bytes) -> str:
    """The codec to read a file that begins with `start` (its first few KB)."""
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) and not start.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"
    if _looks_utf16(start):
        raise RapportError(
            f"{display}: is UTF-16 text without a byte-order mark",
            hint="save it as UTF-8, or as UTF-16 with a byte-order mark",
        )
    return "utf-8-sig"


def _looks_utf16(start: bytes) -> bool:
    """Text in UTF-16 has a zero byte in every other place for Latin letters and digits."""
    sample = start[:_SAMPLE]
    if len(sample) < 4 or b"\x00" not in sample:
        return False
    even, odd = sample[0::2], sample[1::2]
    return even.count(0) > len(even) // 2 or odd.count(0) > len(odd) // 2


def has_bad_byte(text: str) -> bool:
    """Whether `text` holds a byte that was not UTF-8 (read with surrogateescape)."""
    return not text.isascii() and _ESCAPED.search(text) is not None


def bad_byte_in(texts: list[str]) -> str | None:
    """The message for the first text holding an undecodable byte, or None (fast when all
    of it is ASCII or proper Unicode)."""
    for text in texts:
        if text.isascii():
            continue
        found = _ESCAPED.search(text)
        if found is not None:
            return _message(text, found.start())
    return None


def _message(text: str, at: int) -> str:
    byte = ord(text[at]) - 0xDC00
    word = _word_around(text, at)
    raw = word.encode("utf-8", "surrogateescape")
    try:
        shown = raw.decode("cp1252")
    except UnicodeDecodeError:
        return f"byte 0x{byte:02X} is not UTF-8 (the file is in another encoding); {UTF8_FIX}"
    return (
        f"byte 0x{byte:02X} is not UTF-8 (the file may be Windows-1252, where this cell"
        f" reads {shown!r}); {UTF8_FIX}"
    )


def _word_around(text: str, at: int) -> str:
    """The cell (CSV) or the word (JSONL line) holding position `at`, for the message."""
    start, end = at, at + 1
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in '"{}:,[]':
        start -= 1
    while end < len(text) and not text[end].isspace() and text[end] not in '"{}:,[]':
        end += 1
    return text[start:end][:60]
