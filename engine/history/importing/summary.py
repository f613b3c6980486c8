"""What an import did, where its rejected rows are, and what it warns about.

A file of 12,000 events imported before its customers fails 12,000 times for one reason;
12,000 lines of output hide the reason and any other problem among them. So rejected rows
are grouped by kind (the message with its quoted values and numbers taken out): a kind
with a few rows lists each, a kind with more is one line with its first example, a count
and its first lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from engine.errors import Problem

# The summary keeps the first few thousand problems for callers and tests, so a file of
# garbage cannot fill memory; the groups keep a count and a few lines per kind.
KEEP_PROBLEMS = 5_000
LIST_EACH_UP_TO = 3  # a kind with more rows than this is one line
FIRST_LINES = 5
MAX_KINDS = 200  # beyond this, rows of new kinds are listed as they come

OnProblem = Callable[[Problem], None]
OnProgress = Callable[[int, int], None]  # (bytes read, file size)

# What varies between rows of one kind: quoted values and numbers (not the field name).
_VALUES = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|0x[0-9A-F]+|\d+")
_FIELD = re.compile(r"field '[^']*': ")


def kind_of(message: str) -> str:
    field_part = _FIELD.match(message)
    head = field_part.group(0) if field_part else ""
    return head + _VALUES.sub("…", message[len(head) :])


@dataclass
class _Kind:
    first: list[Problem] = field(default_factory=list)  # up to LIST_EACH_UP_TO + 1
    count: int = 0
    lines: list[int] = field(default_factory=list)


@dataclass
class ImportSummary:
    file: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Customers whose stored history an import replaced (`--update`): their outcomes may
    # change with no new event. The replaced events' new `seq` already wakes the customer
    # they now belong to (engine/history/changes.py); this set also names the one an
    # event moved away from.
    changed_customers: set[int] = field(default_factory=set)
    on_problem: OnProblem | None = field(default=None, repr=False, compare=False)
    _kinds: dict[str, _Kind] = field(default_factory=dict, repr=False, compare=False)
    _loose: list[Problem] = field(default_factory=list, repr=False, compare=False)

    def reject(self, line: int, message: str) -> None:
        problem = Problem(self.file, line, 0, message)
        self.rejected += 1
        if len(self.problems) < KEEP_PROBLEMS:
            self.problems.append(problem)
        self._group(problem)
        if self.on_problem is not None:
            self.on_problem(problem)

    def _group(self, problem: Problem) -> None:
        kind = kind_of(problem.message)
        group = self._kinds.get(kind)
        if group is None:
            if len(self._kinds) >= MAX_KINDS:
                if len(self._loose) < KEEP_PROBLEMS:
                    self._loose.append(problem)
                return
            group = self._kinds[kind] = _Kind()
        group.count += 1
        if len(group.first) <= LIST_EACH_UP_TO:
            group.first.append(problem)
        if len(group.lines) < FIRST_LINES:
            group.lines.append(problem.line)

    def report(self) -> Iterator[str]:
        """The rejected rows as a person reads them: one line per row of a rare kind, one
        line per frequent kind; in the order of each kind's first row."""
        lines: list[tuple[int, str]] = []
        for group in self._kinds.values():
            if group.count <= LIST_EACH_UP_TO:
                lines += [(p.line, str(p)) for p in group.first]
                continue
            first = group.first[0]
            where = ", ".join(map(str, group.lines))
            lines.append(
                (
                    first.line,
                    f"{first} [{group.count} rows like this; the first at lines {where}]",
                )
            )
        lines += [(p.line, str(p)) for p in self._loose]
        for _, text in sorted(lines, key=lambda item: item[0]):
            yield text

    def warn(self, message: str) -> None:
        self.warnings.append(f"{self.file}: warning: {message}")

    def __str__(self) -> str:
        return (
            f"{self.file}: read {self.read}, inserted {self.inserted}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )
