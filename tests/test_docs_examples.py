"""The documentation's examples are true: its cadences pass the real `rapport validate`, its
refused cadences get exactly the output it shows, and Getting started's commands run.

Markers are described in tests/docs_helpers.py.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from docs_helpers import ROOT, Example, examples, files_of, shell_commands

from engine.cli import cli

RAPPORT = Path(sys.executable).parent / "rapport"
GETTING_STARTED = "getting-started.md"
# What `make demo` does, on fewer customers (quick; every command only has to run).
SAMPLE_HISTORY = [
    shlex.split(line)
    for line in (
        "demo-data --customers 150 --seed 7 --end 2026-06-15T18:00:00Z --out demo",
        "import customers demo/customers.csv",
        "import events demo/events.csv",
    )
]

VALID = examples("cadence")
REJECTED = examples("cadence: rejected")


def _project(where: Path) -> Path:
    """The repository's config and templates, and an empty rules/ folder."""
    shutil.copy2(ROOT / "config.yaml", where / "config.yaml")
    shutil.copytree(ROOT / "templates", where / "templates")
    (where / "rules").mkdir()
    return where


def _validate(project: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(project)  # file names print relative to the working folder
    monkeypatch.delenv("RAPPORT_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["--config", "config.yaml", "validate"])
    return result.exit_code, result.output


def test_the_docs_have_marked_examples() -> None:
    # A changed marker syntax would otherwise make every test below vacuous.
    assert len(VALID) >= 5
    assert len(REJECTED) >= 5
    assert files_of(GETTING_STARTED)
    assert len(shell_commands(GETTING_STARTED)) >= 4


@pytest.mark.parametrize("example", VALID, ids=lambda e: e.id)
def test_a_cadence_in_the_docs_passes_validate(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    (project / "rules" / "example.yaml").write_text(example.body, encoding="utf-8")
    code, output = _validate(project, monkeypatch)
    assert code == 0 and "warning" not in output, (
        f"docs/{example.id}: this cadence example does not pass `rapport validate`:\n{output}"
    )


@pytest.mark.parametrize("example", REJECTED, ids=lambda e: e.id)
def test_a_refused_cadence_in_the_docs_gets_the_output_shown(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    (project / "rules" / "welcome.yaml").write_text(example.body, encoding="utf-8")
    code, output = _validate(project, monkeypatch)
    assert code == 1
    assert output == example.expected, (
        f"docs/{example.id}: `rapport validate` now says something else; "
        f"put this in the page:\n{output}"
    )


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the project with a small sample history and Getting started's files."""
    project = tmp_path_factory.mktemp("getting-started")
    shutil.copy2(ROOT / "config.yaml", project / "config.yaml")
    for folder in ("rules", "templates"):
        shutil.copytree(ROOT / folder, project / folder)
    for args in SAMPLE_HISTORY:
        done = _run(project, [str(RAPPORT), *args])
        assert done.returncode == 0, done.stderr
    for path, content in files_of(GETTING_STARTED).items():
        (project / path).write_text(content, encoding="utf-8")
    yield project


def _run(project: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RAPPORT_DATABASE_URL"}
    return subprocess.run(
        args, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize(
    "command", shell_commands(GETTING_STARTED), ids=lambda words: " ".join(words[1:])
)
def test_a_command_in_getting_started_runs(command: list[str], sample_project: Path) -> None:
    done = _run(sample_project, [str(RAPPORT), *command[1:]])
    assert done.returncode == 0, (
        f"docs/{GETTING_STARTED}: `{' '.join(command)}` exited {done.returncode}:\n"
        f"{done.stdout}{done.stderr}"
    )


def test_the_mistake_getting_started_shows_is_what_validate_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    for path, content in files_of(GETTING_STARTED).items():
        (project / path).write_text(content.replace("after: 1d", "after: 1 day"), encoding="utf-8")
    page = (ROOT / "docs" / GETTING_STARTED).read_text(encoding="utf-8")
    shown = page.split("Try a mistake", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    code, output = _validate(project, monkeypatch)
    assert (code, output) == (1, shown), f"docs/{GETTING_STARTED} should show:\n{output}"


def test_the_backup_recipe_in_operating_copies_a_live_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from engine.history.db import Database

    page = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    recipe = page.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    db = Database.open("sqlite:///rapport.db")  # migrated, in WAL mode, left open
    try:
        exec(compile(recipe, "docs/operating.md", "exec"), {})
    finally:
        db.dispose()
    [backup] = tmp_path.glob("backup-*.db")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM customers").fetchone() == (0,)
