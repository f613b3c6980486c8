"""One exception family. Each error carries the fields it needs to build its own message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


class RapportError(Exception):
    """Base of every error our code raises on purpose; the CLI prints it as one line."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in an input file, at a place a marketer can jump to.

    An error makes the input unusable (exit 1); a warning is a likely mistake that the
    input still works with (a typo in an event type that no data has yet), printed as
    `FILE:LINE:COL: warning: message` and never changing the exit code.
    """

    file: str
    line: int
    col: int
    message: str
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        text = f"warning: {self.message}" if self.severity == "warning" else self.message
        if self.line <= 0:
            return f"{self.file}: {text}"
        if self.col <= 0:
            return f"{self.file}:{self.line}: {text}"
        return f"{self.file}:{self.line}:{self.col}: {text}"


class InvalidInput(RapportError):
    """The user's input (rules, config, templates, rows) is wrong; exit code 1."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class NotBuiltYet(RapportError):
    """A documented command whose implementation has not landed yet; exit code 2."""

    exit_code = 2

    def __init__(self, command: str) -> None:
        super().__init__(f"'rapport {command}' is not built yet", hint="see the open issues")
