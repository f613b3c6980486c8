"""Hot reload: at each tick boundary, a changed project replaces the running one if valid.

What is watched: every file under rules/ and templates/, and config.yaml. A change is
noticed by a fingerprint of their bytes, then checked with the same checks as
`rapport validate`. Valid: it replaces the running project (the pool of workers with it)
and the new rules hash is logged. Invalid, or half-written (an editor saving, a `git
checkout` in progress): every problem is logged as FILE:LINE:COL: message and the last
good version keeps running; the same broken version is not checked again until a file
changes once more.

From config.yaml the daemon takes what an evaluation reads (policy, brand, timezone,
decision retention); `database`, `channels` and `schedule` are fixed when it starts, and a
change to them is logged as needing a restart.

A rule edit never makes a message already planned be planned again: the ledger's
idempotency key (customer, cadence, enrolment start, step) is the same before and after
the edit, and enrolments keep their progress by step name.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.config import Settings
from engine.errors import Problem
from engine.strategy.model import Strategy

FIXED_AT_START = ("database", "x", "schedule", "daemon", "project_dir")


@dataclass(frozen=True)
class Project:
    """One valid version of the rules, templates and settings, as the daemon runs it."""

    strategy: Strategy
    settings: Settings
    fingerprint: str
    loaded_at: datetime

    @property
    def rules_hash(self) -> str:
        return self.strategy.version_hash


def fingerprint(config_path: Path) -> str:
    """A hash of config.yaml and every file under rules/ and templates/ beside it."""
    root = config_path.resolve().parent
    digest = hashlib.sha256()
    files = [config_path.resolve()]
    for folder in (root / "rules", root / "templates"):
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(root) if file.is_relative_to(root) else file).encode())
        try:
            digest.update(hashlib.sha256(file.read_bytes()).digest())
        except OSError:  # removed while we looked: the next tick sees the result
            digest.update(b"\0missing")
    return digest.hexdigest()


def validate_project(config_path: Path) -> tuple[Settings | None, Strategy | None, list[Problem]]:
    """The checks of `rapport validate` (engine/project.py, the one entry point): config,
    rule files, templates rendered for samples. Warnings do not block a reload."""
    from engine.project import validate_project as check_project

    check = check_project(config_path)
    return check.settings, check.strategy, sorted(set(check.errors))


def load_project(config_path: Path, *, now: datetime) -> tuple[Project | None, list[Problem]]:
    """A valid Project, or the problems. The fingerprint is taken before and after the
    checks: if the files moved under us, the result is reported as still changing."""
    before = fingerprint(config_path)
    settings, strategy, problems = validate_project(config_path)
    if fingerprint(config_path) != before:
        return None, [Problem(str(config_path.parent), 0, 0, "files changed while being checked")]
    if problems or settings is None or strategy is None:
        return None, problems or [Problem(str(config_path), 0, 0, "no valid rules")]
    return Project(strategy, settings, before, now), []


@dataclass(frozen=True)
class Reload:
    """What a tick boundary found: a new project, the problems of a refused one, or neither."""

    project: Project | None = None
    problems: tuple[Problem, ...] = ()
    restart_needed: tuple[str, ...] = ()


def check_for_changes(
    config_path: Path, running: Project, *, refused: str | None, now: datetime
) -> tuple[Reload, str | None]:
    """(what changed, the fingerprint now refused or None). Cheap when nothing changed:
    one read of each watched file."""
    current = fingerprint(config_path)
    if current in (running.fingerprint, refused):
        return Reload(), refused
    project, problems = load_project(config_path, now=now)
    if project is None:
        return Reload(problems=tuple(problems)), current
    fixed = {name: getattr(running.settings, name) for name in FIXED_AT_START}
    changed = tuple(
        name for name in FIXED_AT_START if getattr(project.settings, name) != fixed[name]
    )
    settings = dataclasses.replace(project.settings, **fixed)
    return Reload(dataclasses.replace(project, settings=settings), (), changed), None
