"""What an import did, and where its rejected rows are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.errors import Problem

# Rejected rows are streamed to a callback (the CLI prints them at once); the summary keeps
# the first few thousand for callers and tests, so a file of garbage cannot fill memory.
KEEP_PROBLEMS = 5_000

OnProblem = Callable[[Problem], None]
OnProgress = Callable[[int, int], None]  # (bytes read, file size)


@dataclass
class ImportSummary:
    file: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    on_problem: OnProblem | None = field(default=None, repr=False, compare=False)

    def reject(self, line: int, message: str) -> None:
        problem = Problem(self.file, line, 0, message)
        self.rejected += 1
        if len(self.problems) < KEEP_PROBLEMS:
            self.problems.append(problem)
        if self.on_problem is not None:
            self.on_problem(problem)

    def __str__(self) -> str:
        return (
            f"{self.file}: read {self.read}, inserted {self.inserted}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )
