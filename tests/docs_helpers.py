"""Reading the documentation's marked examples, for the tests that keep them true.

A fenced block in docs/ is checked when a marker comment stands on the line before it:

    <!-- cadence -->            a whole cadence file that `rapport validate` accepts
    <!-- cadence: rejected -->  a cadence that `validate` refuses, written as
                                rules/welcome.yaml; the next ```text block is the
                                exact output
    <!-- file: PATH -->         a file the page asks the reader to write (Getting started
                                writes them before running its commands)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_MARKED = re.compile(
    r"^<!-- (?P<marker>cadence|cadence: rejected|file: [^ ]+) -->\n"
    r"```[a-z]*\n(?P<body>.*?)^```\n",
    re.MULTILINE | re.DOTALL,
)
_TEXT_BLOCK = re.compile(r"\s*```text\n(?P<body>.*?)^```\n", re.MULTILINE | re.DOTALL)
_FENCE = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```\n", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    page: str  # relative to docs/
    line: int
    marker: str
    body: str
    expected: str | None = None  # a rejected cadence's `validate` output

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def examples(marker_prefix: str) -> list[Example]:
    found = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for match in _MARKED.finditer(text):
            marker = match["marker"]
            if marker != marker_prefix and not marker.startswith(marker_prefix + " "):
                continue
            expected = None
            if marker == "cadence: rejected":
                following = _TEXT_BLOCK.match(text, match.end())
                assert following, f"{page}: a rejected cadence needs its ```text output after it"
                expected = following["body"]
            found.append(
                Example(
                    page=str(page.relative_to(DOCS)),
                    line=text.count("\n", 0, match.start()) + 1,
                    marker=marker,
                    body=match["body"],
                    expected=expected,
                )
            )
    return found


def files_of(page: str) -> dict[str, str]:
    """PATH -> content of the page's `<!-- file: PATH -->` blocks."""
    return {
        example.marker.removeprefix("file: "): example.body
        for example in examples("file:")
        if example.page == page
    }


def shell_commands(page: str, program: str = "rapport") -> list[list[str]]:
    """The `rapport …` lines of a page's ```sh blocks, comments dropped, in order, once each."""
    import shlex

    commands: list[list[str]] = []
    for block in _FENCE.finditer((DOCS / page).read_text(encoding="utf-8")):
        if block["lang"] != "sh":
            continue
        for line in block["body"].splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == program and words not in commands:
                commands.append(words)
    return commands
