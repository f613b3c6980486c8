"""Rule files -> Strategy, in visible stages: YAML with positions, schema, checks, compile.

Every file goes through every stage it can, and the cross-file checks run on whatever
was readable, so one `rapport validate` shows every problem at once.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidInput, Problem
from engine.schema_check import dotted, schema_problems
from engine.strategy.checks import cadence_problems, template_fields
from engine.strategy.compile import compile_cadence
from engine.strategy.condition_text import compile_conditions
from engine.strategy.model import Cadence, Strategy
from engine.strategy.schema import CADENCE_SCHEMA
from engine.strategy.vocabulary import Vocabulary, vocabulary_warnings
from engine.strategy.xrules import x_rule_problems
from engine.yamlpos import Document, load_document

RULE_SUFFIXES = (".yaml", ".yml")
_TEMPLATE_NAME = re.compile(CADENCE_SCHEMA["definitions"]["template"]["pattern"])


@dataclass(frozen=True)
class _Checked:
    path: Path
    content: bytes
    doc: Document | None
    cadence: Cadence | None


def display_name(path: Path) -> str:
    """The path as the marketer typed it: relative to the working folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def rule_files(
    rules_dir: Path, paths: Sequence[Path] | None = None
) -> tuple[list[Path], list[Problem]]:
    """The rule files named (files, or folders of *.yaml), in name order, without repeats."""
    found: dict[Path, None] = {}
    problems: list[Problem] = []
    for target in paths or [rules_dir]:
        target = Path(target)
        if target.is_dir():
            files = [
                p for p in target.iterdir() if p.suffix.lower() in RULE_SUFFIXES and p.is_file()
            ]
            found.update(dict.fromkeys(sorted(files)))
        elif target.is_file():
            found[target] = None
        else:
            problems.append(Problem(display_name(target), 0, 0, "no such file or folder"))
    return list(found), problems


def check_file(path: Path) -> tuple[_Checked, list[Problem]]:
    """One file through every stage; a Cadence only when the file has no problem."""
    label, content = display_name(path), path.read_bytes()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _Checked(path, content, None, None), [
            Problem(label, 1, 1, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")
        ]
    doc, problems = load_document(text, label)
    if doc is None:
        return _Checked(path, content, None, None), problems
    if doc.data is None:
        message = "the file is empty (a cadence starts with `version: 1`)"
        return _Checked(path, content, doc, None), [*problems, Problem(label, 1, 1, message)]
    problems += schema_problems(doc, CADENCE_SCHEMA)
    if not isinstance(doc.data, dict):
        return _Checked(path, content, doc, None), problems
    problems += cadence_problems(doc) + x_rule_problems(doc)
    conditions, condition_problems = compile_conditions(doc)
    problems += condition_problems
    cadence = None if problems else compile_cadence(doc, conditions)
    return _Checked(path, content, doc, cadence), problems


def _duplicate_names(checked: list[_Checked]) -> list[Problem]:
    first: dict[str, Document] = {}
    problems = []
    for item in checked:
        doc = item.doc
        name = doc.data.get("cadence") if doc and isinstance(doc.data, dict) else None
        if not isinstance(name, str) or doc is None:
            continue
        if name in first:
            where = first[name].positions.of(("cadence",))
            problems.append(
                doc.problem(
                    ("cadence",),
                    f"cadence: '{name}' is already defined in {first[name].file}:{where.line} "
                    "(cadence names must be unique; rename one)",
                )
            )
        else:
            first[name] = doc
    return problems


def _missing_templates(checked: list[_Checked], templates_dir: Path) -> list[Problem]:
    """Every template a step names must be a file in templates/."""
    existing = sorted(
        p.relative_to(templates_dir).as_posix() for p in templates_dir.rglob("*") if p.is_file()
    )
    folder = display_name(templates_dir)
    problems = []
    for doc in (item.doc for item in checked):
        if doc is None or not isinstance(doc.data, dict):
            continue
        steps = doc.data.get("steps")
        for i, step in enumerate(steps if isinstance(steps, list) else []):
            if not isinstance(step, dict):
                continue
            for rel, name in template_fields(step):
                if name in existing or not _TEMPLATE_NAME.fullmatch(name):  # schema said so
                    continue
                close = difflib.get_close_matches(name, existing, n=1, cutoff=0.6)
                fix = f"; did you mean '{close[0]}'?" if close else f" (add {folder}/{name})"
                where: tuple[str | int, ...] = ("steps", i, *rel)
                message = f"{dotted(where)}: template '{name}' not found in {folder}/{fix}"
                problems.append(doc.problem(where, message))
    return problems


def version_hash(checked: list[_Checked]) -> str:
    """A rules version: sha256 of the files' names and contents, in name order."""
    digest = hashlib.sha256()
    for item in sorted(checked, key=lambda c: (c.path.name, str(c.path))):
        digest.update(item.path.name.encode() + b"\0" + item.content + b"\0")
    return digest.hexdigest()


def validate_files(
    rules_dir: Path,
    *,
    templates_dir: Path | None = None,
    paths: Sequence[Path] | None = None,
    vocabulary: Vocabulary | None = None,
) -> tuple[Strategy | None, list[Problem]]:
    """Every problem of the rule files (never raises for bad input), and the Strategy if no
    error. With a `vocabulary`, unknown event types and attributes are warnings too."""
    files, problems = rule_files(rules_dir, paths)
    checked: list[_Checked] = []
    for path in files:
        item, file_problems = check_file(path)
        checked.append(item)
        problems += file_problems
    problems += _duplicate_names(checked)
    if templates_dir is not None:
        problems += _missing_templates(checked, templates_dir)
    if vocabulary is not None:
        problems += [
            warning
            for item in checked
            if item.doc is not None
            for warning in vocabulary_warnings(item.doc, vocabulary)
        ]
    problems = sorted(set(problems))
    if any(problem.is_error for problem in problems):
        return None, problems
    cadences = sorted(
        (item.cadence for item in checked if item.cadence is not None),
        key=lambda c: (-c.priority, c.name),
    )
    return Strategy(tuple(cadences), version_hash(checked)), problems


def load_strategy(
    rules_dir: Path,
    *,
    templates_dir: Path | None = None,
    paths: Sequence[Path] | None = None,
) -> Strategy:
    """The compiled strategy, or InvalidInput with every problem."""
    strategy, problems = validate_files(rules_dir, templates_dir=templates_dir, paths=paths)
    if strategy is None:
        raise InvalidInput(problems)
    return strategy
