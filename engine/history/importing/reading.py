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
from engine.history.importing.encoding import bad_byte_in, encoding_of, has_bad_byte

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
        # strict: an unclosed quote is an error at the end, not every later row in one cell
        reader = csv.reader(self._text, strict=True)
        next(reader, None)  # the header, already read by open_source
        line = 1
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                yield start, _csv_problem(exc)
                continue
            line = reader.line_num
            if cells:
                # One scan of the whole row finds an undecodable byte; the message needs
                # the cell, so only a row that has one is looked at cell by cell.
                bad = bad_byte_in(cells) if has_bad_byte("".join(cells)) else None
                yield start, bad if bad is not None else self._cells(cells)

    def _cells(self, cells: list[str]) -> dict[str, Any] | str:
        width, columns = len(self.columns), self.columns
        if len(cells) <= width and "" not in columns:
            # The common row, in one comprehension (a third of an import's time was here).
            return {column: cell for column, cell in zip(columns, cells, strict=False) if cell}
        if len(cells) > width:
            return f"has {len(cells)} cells but the header has {width} columns"
        named = {}
        for number, (column, cell) in enumerate(zip(columns, cells, strict=False), start=1):
            if cell == "":
                continue
            if not column:
                return f"has {cell!r} in column {number}, which has no name in the header"
            named[column] = cell
        return named

    def _jsonl_rows(self) -> Iterator[Row]:
        for number, line in enumerate(self._text, start=1):
            if not line.strip():
                continue
            bad = bad_byte_in([line])
            if bad is not None:
                yield number, bad
                continue
            try:
                value = json.loads(line, parse_constant=_not_a_number, parse_float=_finite)
            except json.JSONDecodeError as exc:
                yield number, f"is not valid JSON ({exc.msg} at column {exc.colno})"
                continue
            except _NotANumber as exc:
                yield number, str(exc)
                continue
            if not isinstance(value, dict):
                yield number, "is not a JSON object"
                continue
            yield number, {k: v for k, v in value.items() if v is not None}


class _NotANumber(ValueError):
    pass


def _not_a_number(word: str) -> Any:
    """NaN and Infinity: Python reads them, but JSON has no such numbers and the database
    would store text that no JSON reader accepts."""
    raise _NotANumber(f"has {word}, which is not a JSON number (use null or a number)")


def _finite(text: str) -> float:
    """1e400 parses as infinity, which JSON cannot store: refuse it like NaN."""
    number = float(text)
    if number - number != 0:  # inf - inf is nan; every finite number gives 0
        raise _NotANumber(f"has {text}, which is not a finite number (use null or a number)")
    return number


def _csv_problem(exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc):
        return "has a quote that is never closed (every later line was read into one cell)"
    return f"is not valid CSV ({exc})"


def _header(display: str, text: IO[str]) -> tuple[str, ...]:
    """The column names. Unnamed columns (a spreadsheet's trailing commas) are allowed."""
    try:
        first = next(csv.reader(text, strict=True), None)
    except csv.Error as exc:
        raise InvalidInput([Problem(display, 1, 0, f"the header {_csv_problem(exc)}")]) from None
    if first is None:
        return ()
    columns = tuple(c.strip() for c in first)
    bad = bad_byte_in(list(columns))
    if bad is not None:
        raise InvalidInput([Problem(display, 1, 0, f"the header has a {bad}")])
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise InvalidInput([Problem(display, 1, 0, f"column {column!r} appears twice")])
        seen.add(column)
    return columns


_EVENT_COLUMNS = ("type", "occurred_at")


def check_kind(display: str, columns: tuple[str, ...], kind: str) -> None:
    """`import customers events.csv` would make a customer of every event: refuse a file
    whose columns are the other kind's, and say which command it needs."""
    if not columns:
        return
    if kind == "customers" and all(c in columns for c in _EVENT_COLUMNS):
        found = "the columns 'type' and 'occurred_at'"
        other = "events"
    elif kind == "events" and "id" in columns and not any(c in columns for c in _EVENT_COLUMNS):
        found = "no column 'type' or 'occurred_at'"
        other = "customers"
    else:
        return
    an = "an" if other == "events" else "a"
    message = (
        f"this is {an} {other} file (it has {found}); import it with:"
        f" rapport import {other} {display}"
    )
    raise InvalidInput([Problem(display, 1, 0, message)])


def check_columns(display: str, columns: tuple[str, ...], required: tuple[str, ...]) -> None:
    """`required` entries like 'customer_id|handle' accept either column."""
    problems = [
        Problem(display, 1, 0, f"missing column {' or '.join(map(repr, need.split('|')))}")
        for need in required
        if not any(alt in columns for alt in need.split("|"))
    ]
    if problems:
        raise InvalidInput(problems)


def _first_keys(text: IO[str]) -> tuple[str, ...]:
    """The keys of a JSONL file's first object: its columns, for telling the kind of file."""
    for line in text:
        if line.strip():
            try:
                value = json.loads(line)
            except ValueError:
                return ()
            return tuple(value) if isinstance(value, dict) else ()
    return ()


@contextmanager
def open_source(
    path: str | Path, required: tuple[str, ...] = (), *, kind: str = ""
) -> Iterator[Source]:
    """Open FILE by extension. A CSV header missing a required column, or a file of the
    other kind (`kind` is what the command imports), stops here, before any row."""
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
        encoding = encoding_of(display, binary.read(4096))
        binary.seek(0)
        text = io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")
        source = Source(display, format, file.stat().st_size, binary, text)
        if format == "csv":
            source.columns = _header(display, text)
            check_kind(display, source.columns, kind)
            check_columns(display, source.columns, required)
        else:
            check_kind(display, _first_keys(text), kind)
        # Re-read from the start so the row iterator sees the header as line 1.
        text.seek(0)
        yield source
