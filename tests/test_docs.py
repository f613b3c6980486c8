"""The documentation cannot rot: it names every key, its CLI reference is the commands'
own help, it builds in strict mode, and nothing in the repository cites a document the
repository does not contain.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docs_helpers import DOCS, ROOT

from engine.cli import cli
from engine.cli.reference import REGENERATE, render
from engine.config import CONFIG_SCHEMA
from engine.strategy import CADENCE_SCHEMA


def key_paths(schema: dict[str, Any], root: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of a JSON Schema's leaf keys: trigger.event, steps[].after, cap.max."""
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        sub = _resolved(sub, root)
        items = _resolved(sub.get("items", {}), root)
        if sub.get("type") == "array" and "properties" in items:
            yield from key_paths(items, root, f"{path}[].")
        elif sub.get("properties"):
            yield from key_paths(sub, root, f"{path}.")
        else:
            yield path


def _resolved(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _undocumented(schema: dict[str, Any], page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return [path for path in key_paths(schema, schema) if f"`{path}`" not in text]


def test_every_key_of_the_rule_language_is_in_writing_cadences() -> None:
    paths = list(key_paths(CADENCE_SCHEMA, CADENCE_SCHEMA))
    assert {"trigger.where", "cap.per", "steps[].unless"} <= set(paths)
    missing = _undocumented(CADENCE_SCHEMA, DOCS / "cadences.md")
    assert not missing, f"document these cadence keys in docs/cadences.md: {missing}"


def test_every_key_of_config_yaml_is_in_the_configuration_reference() -> None:
    paths = list(key_paths(CONFIG_SCHEMA, CONFIG_SCHEMA))
    assert {"policy.caps[].max", "channels.x.timeout", "report.window"} <= set(paths)
    missing = _undocumented(CONFIG_SCHEMA, DOCS / "reference" / "config.md")
    assert not missing, f"document these config keys in docs/reference/config.md: {missing}"


def test_the_cli_reference_is_the_commands_own_help() -> None:
    committed = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert committed == render(cli), (
        f"docs/reference/cli.md differs from the commands: regenerate it with `{REGENERATE}`"
    )


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    warnings = [line for line in done.stderr.splitlines() if not line.startswith("INFO")]
    assert done.returncode == 0, "`make docs` fails:\n" + "\n".join(warnings)
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "reference" / "cli.html").is_file()


# Built from parts, so that this file does not trip over itself.
_OUTSIDE = re.compile(
    "|".join(
        [
            r"\b" + "DES" + r"IGN\b",
            "STY" + r"LE\.md",
            r"\b" + "DOM" + "AIN",
            "\u00a7",
            r"\.\./" + "shared",
            "/work" + "/",
            r"\b" + "iss" + r"ue \d",  # the tracker is not in the repository either
        ]
    )
)
_CHECKED = ("engine", "tests", "bench", "docs")
_CHECKED_FILES = ("README.md", "config.yaml", "mkdocs.yml", "Makefile", "pyproject.toml")


def _checked_files() -> Iterator[Path]:
    for folder in _CHECKED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                yield path
    for name in _CHECKED_FILES:
        yield ROOT / name


def test_nothing_cites_a_document_outside_the_repository() -> None:
    found = []
    for path in _checked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images, databases
        for number, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, (
        "the repository must stand alone: cite a page in docs/ or the module that owns the "
        "rule, or write the reason out, instead of:\n" + "\n".join(found)
    )
