"""Streaming readers for CSV and JSONL: one row at a time, numbered as the user sees it.

A CSV row's number is the line it starts on, the header being line 1 (spreadsheets and
editors agree on that); a JSONL row's number is its line. Empty CSV cells and JSON nulls
are dropped: an absent attribute or property, not an empty string.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from engine.errors import InvalidInput, Problem, RapportError

FORMATS = {".csv": "csv", ".jsonl": "jsonl"}

# A row is its cells, or the reason it could not be read at all (bad JSON, extra cells).
Row = tuple[int, dict[str, Any] | str]


def _unknown_format(display: str) -> RapportError:
    return RapportError(
        f"{display}: cannot tell the format from the extension",
        hint="use a .csv or .jsonl file",
    )


@dataclass
class Source:
    """An open input file. `typed` is True for JSONL, whose values are already typed."""

    display: str
    format: str
    size: int
    _binary: IO[bytes]
    _text: IO[str]
    columns: tuple[str, ...] = field(default=())

    @property
    def typed(self) -> bool:
        return self.format == "jsonl"

    @property
    def bytes_read(self) -> int:
        """Approximate (the text layer reads ahead in chunks): enough for a progress bar."""
        try:
            return self._binary.tell()
        except (OSError, ValueError):
            return 0

    def rows(self) -> Iterator[Row]:
        try:
            yield from self._csv_rows() if self.format == "csv" else self._jsonl_rows()
        except UnicodeDecodeError:
            raise RapportError(
                f"{self.display}: is not UTF-8 text (near byte {self.bytes_read})",
                hint="save the file as UTF-8",
            ) from None
        except csv.Error as exc:
            raise RapportError(f"{self.display}: unreadable CSV ({exc})") from None

    def _csv_rows(self) -> Iterator[Row]:
        reader = csv.reader(self._text)
        next(reader, None)  # the header, already read by open_source
        width, columns, line = len(self.columns), self.columns, 1
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not cells:
                continue
            if len(cells) > width:
                yield start, f"has {len(cells)} cells but the header has {width} columns"
                continue
            yield start, {k: v for k, v in zip(columns, cells, strict=False) if v != ""}

    def _jsonl_rows(self) -> Iterator[Row]:
        for number, line in enumerate(self._text, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"is not valid JSON ({exc.msg} at column {exc.colno})"
                continue
            if not isinstance(value, dict):
                yield number, "is not a JSON object"
                continue
            yield number, {k: v for k, v in value.items() if v is not None}


def _header(display: str, text: IO[str]) -> tuple[str, ...]:
    first = next(csv.reader(text), None)
    if first is None:
        return ()
    columns = tuple(c.strip() for c in first)
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise InvalidInput([Problem(display, 1, 0, f"column {column!r} appears twice")])
        seen.add(column)
    return columns


def check_columns(display: str, columns: tuple[str, ...], required: tuple[str, ...]) -> None:
    """`required` entries like 'customer_id|handle' accept either column."""
    problems = [
        Problem(display, 1, 0, f"missing column {' or '.join(map(repr, need.split('|')))}")
        for need in required
        if not any(alt in columns for alt in need.split("|"))
    ]
    if problems:
        raise InvalidInput(problems)


@contextmanager
def open_source(path: str | Path, required: tuple[str, ...] = ()) -> Iterator[Source]:
    """Open FILE by extension; a CSV header missing a required column stops here."""
    display = str(path)
    file = Path(path)
    format = FORMATS.get(file.suffix.lower())
    if format is None:
        raise _unknown_format(display)
    try:
        binary = file.open("rb")
    except OSError as exc:
        raise RapportError(f"{display}: cannot open ({exc.strerror})") from None
    with binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        source = Source(display, format, file.stat().st_size, binary, text)
        if format == "csv":
            try:
                source.columns = _header(display, text)
            except UnicodeDecodeError:
                raise RapportError(f"{display}: is not UTF-8 text") from None
            check_columns(display, source.columns, required)
            # Re-read from the start so the row iterator sees the header as line 1.
            text.seek(0)
        yield source
