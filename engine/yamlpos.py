"""YAML with positions: every value keeps its line and column, duplicate keys are refused.

PyYAML silently keeps the last of two equal keys and forgets where values were written;
marketers need `file:line:col` for every complaint, so we compose nodes ourselves.
Nothing here expands environment variables or runs tags: only the safe scalar types.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.errors import Problem

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class Positions:
    """Where each value (and each mapping key) of a loaded document was written."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

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

    def problem(self, path: Path, message: str, *, at_key: bool = False) -> Problem:
        mark = self.positions.of_key(path) if at_key else self.positions.of(path)
        return Problem(self.file, mark.line, mark.col, message)


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamp magic: times stay text and are parsed by us."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _build(
    node: yaml.Node, path: Path, loader: _Loader, pos: Positions, problems: list[Problem], file: str
) -> Any:
    pos.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                mark = _mark(key_node)
                problems.append(Problem(file, mark.line, mark.col, "keys must be plain words"))
                continue
            if key in result:
                mark, first = _mark(key_node), pos.keys[(*path, str(key))]
                problems.append(
                    Problem(
                        file,
                        mark.line,
                        mark.col,
                        f"duplicate key '{key}' (first written at line {first.line}); keep one",
                    )
                )
                continue
            pos.keys[(*path, str(key))] = _mark(key_node)
            result[key] = _build(value_node, (*path, str(key)), loader, pos, problems, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), loader, pos, problems, file)
            for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _syntax_problem(file: str, text: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = getattr(exc, "problem", None) or str(exc)
    if "\t" in reason or (mark and _is_tab_at(text, mark.line, mark.column)):
        return Problem(file, line, col, "tab character in indentation; indent with spaces")
    return Problem(file, line, col, f"YAML syntax error: {reason}")


def _is_tab_at(text: str, line: int, col: int) -> bool:
    lines = text.splitlines()
    return line < len(lines) and "\t" in lines[line][: col + 1]


def load_document(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML document. Returns the document (None if unreadable) and every problem."""
    loader = _Loader(text)
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(file, None, Positions()), problems
        positions = Positions()
        data = _build(node, (), loader, positions, problems, file)
        return Document(file, data, positions), problems
    except yaml.YAMLError as exc:
        return None, [_syntax_problem(file, text, exc)]
    finally:
        loader.dispose()


def walk(data: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from walk(value, (*path, i))
