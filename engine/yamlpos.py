"""YAML with positions: every value keeps its line and column, duplicate keys are refused.

PyYAML silently keeps the last of two equal keys and forgets where values were written;
marketers need `file:line:col` for every complaint, so we compose nodes ourselves.
Nothing here expands environment variables or runs tags: only the safe scalar types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.errors import Problem

Path = tuple[str | int, ...]

# Aliases can make a small file into a huge (or endless) tree; rule and config files are
# small, so a generous bound on built values refuses "billion laughs" without a crash.
MAX_VALUES = 100_000


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class Positions:
    """Where each value (and each mapping key) of a loaded document was written."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)
    # Character span (start, end) of each scalar in the source text, so a position
    # inside a value (a condition's column) can be mapped back to the file.
    spans: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: Path) -> Mark:
        """The value's position, or its nearest written ancestor's."""
        for end in range(len(path), -1, -1):
            if (mark := self.values.get(path[:end])) is not None:
                return mark
        return Mark(1, 1)

    def of_key(self, path: Path) -> Mark:
        return self.keys.get(path) or self.of(path)


@dataclass(frozen=True)
class Document:
    file: str
    data: Any
    positions: Positions
    text: str = ""  # the source, for positions inside scalar values

    def problem(self, path: Path, message: str, *, at_key: bool = False) -> Problem:
        mark = self.positions.of_key(path) if at_key else self.positions.of(path)
        return Problem(self.file, mark.line, mark.col, message)

    def problem_in(self, path: Path, offset: int, message: str) -> Problem:
        """A problem at character `offset` of the text value at `path`."""
        mark = self.mark_in(path, offset)
        return Problem(self.file, mark.line, mark.col, message)

    def mark_in(self, path: Path, offset: int) -> Mark:
        span, value = self.positions.spans.get(path), _get(self.data, path)
        if span is None or not isinstance(value, str):
            return self.positions.of(path)
        offset = min(offset, len(value.rstrip()))  # "end of text" lands after the last word
        index = _align(value, self.text[span[0] : span[1]], offset)
        if index is None:
            start = self.positions.of(path)
            return Mark(start.line, start.col + max(offset, 0))
        return _index_mark(self.text, span[0] + index)


def _get(data: Any, path: Path) -> Any:
    """The value at `path` (mapping keys compared as text, as positions store them)."""
    for part in path:
        if isinstance(data, dict):
            data = next((v for k, v in data.items() if str(k) == part), None)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _align(value: str, source: str, offset: int) -> int | None:
    """Index in `source` (the written scalar) of character `offset` of its loaded `value`.

    Quoted scalars are decoded character by character (escapes, '' and folded lines), so
    each value character knows where it was written. For plain and block scalars, whose
    indentation and folding differ but whose characters are written as they are, walking
    both in step skips what is not in the value. None if they diverge.
    """
    if source[:1] in ("'", '"'):
        offsets = _quoted_offsets(source)
        if offsets is not None and len(offsets) == len(value) + 1:
            return offsets[min(offset, len(value))] + max(offset - len(value), 0)
    j, last = 0, -1
    for i, char in enumerate(value):
        while j < len(source) and source[j] != char:
            if char == " " and source[j] in _BREAKS:  # a folded line break
                break
            j += 1
        if j >= len(source):
            return None
        if i == offset:
            return j
        last, j = j, j + 1
    return last + 1 + max(offset - len(value), 0) if value else 0


# What YAML (and PyYAML's marks) count as a line break.
_BREAKS = "\r\n\x85\u2028\u2029"
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _quoted_offsets(source: str) -> list[int] | None:
    """Source index of each character of a quoted scalar's value, and of its end.

    Follows YAML's rules for flow scalars: escapes (double quotes) or '' (single quotes)
    are one character, a line break with the blanks around it folds into one space (or
    into n-1 newlines for n breaks), and an escaped line break disappears.
    """
    quote, found, i = source[0], [], 1
    while i < len(source) and (source[i] != quote or source[i : i + 2] == "''" == quote * 2):
        char = source[i]
        if quote == '"' and char == "\\":
            following = source[i + 1 : i + 2]
            if following and following in _BREAKS:
                i = _after_blanks(source, _after_break(source, i + 1))
                continue
            if not following:
                return None
            found.append(i)
            i += 2 + _HEX_ESCAPES.get(following, 0)
        elif quote == "'" and char == "'":  # '' is one quote
            found.append(i)
            i += 2
        elif char in " \t" or char in _BREAKS:
            i = _blanks(source, i, found)
        else:
            found.append(i)
            i += 1
    return [*found, i]


def _blanks(source: str, i: int, found: list[int]) -> int:
    """Blanks inside a flow scalar: kept as they are, or folded when they hold a break."""
    end = _after_blanks(source, i)
    if end >= len(source) or source[end] not in _BREAKS:
        found.extend(range(i, end))
        return end
    breaks, position = 0, end
    while position < len(source) and source[position] in _BREAKS:
        breaks += 1
        position = _after_blanks(source, _after_break(source, position))
    found.extend([end] * (breaks - 1) if breaks > 1 else [end])
    return position


def _after_break(source: str, i: int) -> int:
    return i + 2 if source[i : i + 2] == "\r\n" else i + 1


def _after_blanks(source: str, i: int) -> int:
    while i < len(source) and source[i] in " \t":
        i += 1
    return i


def _index_mark(text: str, index: int) -> Mark:
    """Line and column of `text[index]`, counting line breaks as PyYAML does."""
    line, line_start = 1, 0
    for found in _LINE_BREAK.finditer(text, 0, index):
        line, line_start = line + 1, found.end()
    return Mark(line, index - line_start + 1)


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamp magic: times stay text and are parsed by us."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _TooDeep(Exception):
    """An alias loop or an alias bomb: refused with one message, never a crash."""

    def __init__(self, message: str, mark: Mark | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark or Mark(1, 1)


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


# YAML 1.1 words PyYAML reads as booleans; as keys they are almost always meant as text.
_YAML11_BOOLEANS = ("on", "off", "yes", "no")
_ANCHOR = re.compile(r"&([^\s,\[\]{}]+)")


@dataclass
class _Builder:
    loader: _Loader
    file: str
    text: str
    positions: Positions = field(default_factory=Positions)
    problems: list[Problem] = field(default_factory=list)
    built: int = 0
    stack: set[int] = field(default_factory=set)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.built += 1
        if self.built > MAX_VALUES:
            raise _TooDeep("too many values (aliases expand too far); write values out")
        if id(node) in self.stack:
            raise _TooDeep(
                "an alias refers to the value that contains it; write values out",
                self._alias_mark(node),
            )
        self.positions.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.stack.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            finally:
                self.stack.discard(id(node))
        self.positions.spans[path] = (node.start_mark.index, node.end_mark.index)
        return self.loader.construct_object(node, deep=True)

    def _alias_mark(self, node: yaml.Node) -> Mark:
        """Where the alias to `node` is written inside it (nodes keep only the anchor's place)."""
        start, end = node.start_mark.index, node.end_mark.index
        anchor = _ANCHOR.match(self.text, start)
        if anchor is not None and (alias := self.text.find(f"*{anchor[1]}", start, end)) >= 0:
            return _index_mark(self.text, alias)
        return _mark(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            mark = _mark(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(mark, "merge keys (<<) are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(mark, "keys must be plain words")
                continue
            key = self.loader.construct_object(key_node, deep=True)
            if isinstance(key, bool) and key_node.value.lower() in _YAML11_BOOLEANS:
                word = key_node.value
                self._problem(
                    mark,
                    f"'{word}' is read by YAML as {str(key).lower()}; put it in quotes ('{word}')",
                )
                key = word  # as meant, so that this is the only complaint about it
            if not isinstance(key, str | int | float | bool) and key is not None:
                self._problem(mark, "keys must be plain words")
                continue
            if (earlier := _same_key(result, key)) is not _ABSENT:
                first = self.positions.keys[(*path, str(earlier))]
                self._problem(
                    mark,
                    f"duplicate key '{key_node.value}' (first written at line {first.line}); "
                    "keep one",
                )
                continue
            self.positions.keys[(*path, str(key))] = mark
            result[key] = self.build(value_node, (*path, str(key)))
        return result

    def _problem(self, mark: Mark, message: str) -> None:
        self.problems.append(Problem(self.file, mark.line, mark.col, message))


_ABSENT = object()


def _same_key(result: dict[Any, Any], key: Any) -> Any:
    """The key of `result` that `key` would collide with, or _ABSENT.

    Python merges keys YAML treats as equal (1, 1.0 and true; 0 and false) and positions
    are kept by the text form ("1" and 1): both count as writing the same key twice.
    """
    if key in result:
        return next(k for k in result if k == key)
    return next((k for k in result if str(k) == str(key)), _ABSENT)


def _syntax_problem(file: str, text: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark and mark and context_mark.line != mark.line:
        # An unclosed bracket or quote is found at the end; say where it was opened.
        reason += f" ({context} that starts at line {context_mark.line + 1})"
    if reason == "mapping values are not allowed here":
        reason += " (put text that contains ': ' in quotes)"
    if mark and (tab := _tab_at(text, mark.line, mark.column)) is not None:
        if _LINE_BREAK.split(text)[mark.line][:tab].strip():  # after text: not indentation
            return Problem(
                file, line, tab + 1, "tab character inside a value; replace it with a space"
            )
        return Problem(file, line, tab + 1, "tab character in indentation; indent with spaces")
    if "\t" in reason:
        return Problem(file, line, col, "tab character in indentation; indent with spaces")
    return Problem(file, line, col, f"YAML syntax error: {reason}")


def _tab_at(text: str, line: int, col: int) -> int | None:
    """Index in line `line` (0-based) of the last tab at or before `col`, if any."""
    lines = _LINE_BREAK.split(text)
    if line >= len(lines):
        return None
    tab = lines[line].rfind("\t", 0, col + 1)
    return tab if tab >= 0 else None


def _reader_problem(file: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    mark = _index_mark(text, min(exc.position, len(text)))
    message = f"character U+{exc.character:04X} is not allowed in YAML; remove it"
    return Problem(file, mark.line, mark.col, message)


def load_document(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML document. Returns the document (None if unreadable) and every problem."""
    try:
        loader = _Loader(text)  # control characters are refused right here
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(file, text, exc)]
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(file, None, Positions(), text), []
        builder = _Builder(loader, file, text)
        data = builder.build(node, ())
        return Document(file, data, builder.positions, text), builder.problems
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(file, text, exc)]
    except yaml.YAMLError as exc:
        return None, [_syntax_problem(file, text, exc)]
    except _TooDeep as exc:
        return None, [Problem(file, exc.mark.line, exc.mark.col, exc.message)]
    except RecursionError:
        return None, [Problem(file, 1, 1, "nested too deeply; flatten the document")]
    finally:
        loader.dispose()
