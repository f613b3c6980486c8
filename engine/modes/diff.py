"""`rapport diff`: what a change of the rules changes, over one simulated window.

The other version — a git revision's rules, templates and the policy part of its
config.yaml, or a folder — is materialised as a project folder, checked by the one
project check (engine/project.py `validate_project`), then both versions are simulated
over the same window on the same stored history (engine/modes/simulate_window.py).

Direction: the other version is *before*, the current files are *after*. A message is
one (customer, cadence, step, send time): *added* when only the current rules send it,
*removed* when only the other version does. A message both send at the same time with a
different text is a *changed text*. A step sent at another time shows as one removed and
one added message: to a customer that is what changes.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

from engine.config import Settings
from engine.errors import RapportError
from engine.evaluation.records import DecisionRecord, json_safe
from engine.history.db import Database
from engine.modes.simulate_window import Simulation, Window, simulate_window

MessageKey = tuple[str, str, str, str]  # customer, cadence, step, send_at
SAMPLE = 5


@dataclass(frozen=True)
class OtherVersion:
    label: str  # "HEAD~1", "rules-before/"
    settings: Settings  # the current database and settings, that version's project


@contextmanager
def version_from_git(
    settings: Settings, config_path: Path, revision: str
) -> Iterator[OtherVersion]:
    """Rules, templates and config.yaml's policy as committed at `revision`."""
    project = settings.project_dir
    top = _git(project, "rev-parse", "--show-toplevel").decode().strip()
    prefix = project.resolve().relative_to(Path(top).resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    try:
        _git(project, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except RapportError:
        raise RapportError(
            f"--git {revision}: no such revision here", hint="try HEAD~1, a tag or a commit id"
        ) from None
    listed = _git(project, "ls-tree", "--name-only", f"{revision}:{prefix}" if prefix else revision)
    present = set(listed.decode().split())
    if "rules" not in present:
        raise RapportError(f"--git {revision}: no {prefix}rules/ folder in that revision")
    with tempfile.TemporaryDirectory(prefix="rapport-diff-") as folder:
        root = Path(folder)
        paths = [name for name in ("rules", "templates") if name in present]
        tree = f"{revision}:{prefix}" if prefix else revision
        archive = _git(project, "archive", "--format=tar", tree, *paths)
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
        config = config_path.name
        if config in present:
            (root / config).write_bytes(_git(project, "show", f"{revision}:{prefix}{config}"))
        else:  # no config then: the current policy
            shutil.copy(config_path, root / config)
        if "templates" not in present:
            (root / "templates").mkdir()
        where = f"{revision}:{prefix}"
        names = {root / n: f"{where}{n}" for n in ("rules", "templates", config)}
        yield _checked(settings, root / config, label=revision, names=names)


@contextmanager
def version_from_folder(
    settings: Settings, config_path: Path, folder: Path
) -> Iterator[OtherVersion]:
    """A folder of rule files (with the current templates and policy), or a project folder
    (rules/, and templates/ and config.yaml when it has them)."""
    if not folder.is_dir():
        raise RapportError(
            f"--rules {folder}: not a folder", hint="name the rules folder to compare"
        )
    with tempfile.TemporaryDirectory(prefix="rapport-diff-") as scratch:
        root = Path(scratch)
        project = folder if (folder / "rules").is_dir() else None
        shutil.copytree(project / "rules" if project else folder, root / "rules")
        templates = project / "templates" if project and (project / "templates").is_dir() else None
        shutil.copytree(templates or settings.templates_dir, root / "templates")
        config = project / config_path.name if project else None
        shutil.copy(config if config and config.is_file() else config_path, root / config_path.name)
        names = {
            root / "rules": str(project / "rules" if project else folder),
            root / "templates": str(templates or settings.templates_dir),
            root / config_path.name: str(config if config and config.is_file() else config_path),
        }
        yield _checked(settings, root / config_path.name, label=str(folder), names=names)


def _checked(
    settings: Settings, config: Path, *, label: str, names: dict[Path, str]
) -> OtherVersion:
    """The other version through the one project check; errors stop the diff.

    `names`: how to show the temporary copies in messages (the user's folder, or
    `REV:rules` for a revision)."""
    from engine.project import validate_project

    check = validate_project(config)
    if not check.ok or check.settings is None:
        shown = "; ".join(_renamed(str(p), names) for p in check.errors[:5])
        more = f" (+{len(check.errors) - 5} more)" if len(check.errors) > 5 else ""
        raise RapportError(f"{label}: the rules do not validate: {shown}{more}")
    other = dataclasses.replace(settings, policy=check.settings.policy, project_dir=config.parent)
    return OtherVersion(label, other)


def _renamed(message: str, names: dict[Path, str]) -> str:
    for scratch, name in names.items():
        message = message.replace(str(scratch), name)
    return message


def _git(folder: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise RapportError(
            "--git needs the git command", hint="install git or use --rules"
        ) from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise RapportError(f"git {args[0]}: {reason[0] if reason else 'failed'}")
    return done.stdout


def message_key(d: DecisionRecord) -> MessageKey:
    return (d.customer_external_id, d.cadence, d.step or "", str(json_safe(d.decided_at)))


@dataclass(frozen=True)
class RulesDiff:
    before: Simulation
    after: Simulation
    labels: tuple[str, str]
    added: list[DecisionRecord]
    removed: list[DecisionRecord]
    changed: list[tuple[DecisionRecord, DecisionRecord]]  # (before, after), same key

    @classmethod
    def of(cls, before: Simulation, after: Simulation, labels: tuple[str, str]) -> RulesDiff:
        old = {message_key(d): d for d in before.planned}
        new = {message_key(d): d for d in after.planned}
        added = [new[k] for k in sorted(new.keys() - old.keys())]
        removed = [old[k] for k in sorted(old.keys() - new.keys())]
        changed = [(old[k], new[k]) for k in sorted(old.keys() & new.keys())]
        changed = [(o, n) for o, n in changed if o.text != n.text]
        return cls(before, after, labels, added, removed, changed)

    @property
    def moved(self) -> int:
        """Added messages whose customer, cadence and step also lost one: sent at another time."""
        lost = Counter((d.customer_external_id, d.cadence, d.step) for d in self.removed)
        gained = Counter((d.customer_external_id, d.cadence, d.step) for d in self.added)
        return sum((lost & gained).values())

    @property
    def customers_affected(self) -> int:
        touched = [*self.added, *self.removed, *(n for _, n in self.changed)]
        return len({d.customer_external_id for d in touched})

    def by_step(self) -> list[dict[str, Any]]:
        """Per cadence and step: before, after, added, removed."""
        counts: dict[str, Counter[tuple[str, str]]] = {
            name: Counter((d.cadence, d.step or "") for d in rows)
            for name, rows in (
                ("before", self.before.planned),
                ("after", self.after.planned),
                ("added", self.added),
                ("removed", self.removed),
            )
        }
        steps = sorted({key for c in counts.values() for key in c})
        return [
            {"cadence": c, "step": s, **{name: counts[name][(c, s)] for name in counts}}
            for c, s in steps
        ]

    def per_day(self) -> list[dict[str, Any]]:
        def totals(sim: Simulation) -> Counter[date]:
            return Counter(d.decided_at.date() for d in sim.planned)

        old, new = totals(self.before), totals(self.after)
        return [
            {"day": day.isoformat(), "before": old[day], "after": new[day]}
            for day in self.after.days()
        ]


def diff_rules(db: Database, current: Settings, other: OtherVersion, window: Window) -> RulesDiff:
    before = simulate_window(db, other.settings, window)
    after = simulate_window(db, current, window)
    return RulesDiff.of(before, after, (other.label, "current files"))


def message_row(d: DecisionRecord) -> dict[str, Any]:
    return {
        "customer_id": d.customer_external_id,
        "handle": d.handle,
        "cadence": d.cadence,
        "step": d.step,
        "variant": d.variant,
        "send_at": json_safe(d.decided_at),
        "channel": d.channel or None,
        "text": d.text or None,
    }


def diff_document(diff: RulesDiff) -> dict[str, Any]:
    window = diff.after.window
    return {
        "before": diff.labels[0],
        "after": diff.labels[1],
        "start": json_safe(window.start),
        "end": json_safe(window.end),
        "evaluations": len(diff.after.summaries),
        "messages_before": len(diff.before.planned),
        "messages_after": len(diff.after.planned),
        "customers_affected": diff.customers_affected,
        "moved": diff.moved,
        "by_step": diff.by_step(),
        "per_day": diff.per_day(),
        "added": [message_row(d) for d in diff.added],
        "removed": [message_row(d) for d in diff.removed],
        "changed_texts": [
            {**message_row(new), "text_before": old.text or None} for old, new in diff.changed
        ],
    }


def diff_lines(diff: RulesDiff, *, sample: int = SAMPLE) -> list[str]:
    window = diff.after.window
    before, after = len(diff.before.planned), len(diff.after.planned)
    lines = [
        f"before: {diff.labels[0]}; after: {diff.labels[1]}",
        f"simulated {json_safe(window.start)} to {json_safe(window.end)},"
        f" {len(diff.after.summaries)} evaluations each",
        f"messages: {before} before, {after} after ({after - before:+d});"
        f" {len(diff.added)} added, {len(diff.removed)} removed,"
        f" {len(diff.changed)} with a changed text; {diff.customers_affected} customers affected",
    ]
    if diff.moved:
        lines.append(
            f"  of these, {diff.moved} added and {diff.moved} removed are the same customer's step"
            " sent at another time"
        )
    rows = [r for r in diff.by_step() if r["added"] or r["removed"]]
    if not rows and not diff.changed:
        return [*lines, "no message changes in this window"]
    if rows:
        width = max(len(f"{r['cadence']} / {r['step']}") for r in rows)
        lines.append(
            f"  {'cadence / step':<{width}}  {'before':>6}  {'after':>6}  {'added':>6}  removed"
        )
        for r in rows:
            name = f"{r['cadence']} / {r['step']}"
            added = f"+{r['added']}" if r["added"] else "0"
            removed = f"-{r['removed']}" if r["removed"] else "0"
            lines.append(
                f"  {name:<{width}}  {r['before']:>6}  {r['after']:>6}  {added:>6}  {removed:>7}"
            )
    lines += _samples("added", diff.added, sample)
    lines += _samples("removed", diff.removed, sample)
    if diff.changed:
        lines.append(f"changed texts ({min(sample, len(diff.changed))} of {len(diff.changed)}):")
        for old, new in diff.changed[:sample]:
            lines.append(f"  {_who(new)}")
            lines.append(f"    - {old.text}")
            lines.append(f"    + {new.text}")
    return lines


def _who(d: DecisionRecord) -> str:
    handle = f" @{d.handle}" if d.handle else ""
    return f"{d.customer_external_id}{handle} {d.cadence}/{d.step} at {json_safe(d.decided_at)}"


def _samples(word: str, rows: Sequence[DecisionRecord], sample: int) -> list[str]:
    if not rows:
        return []
    lines = [f"{word} ({min(sample, len(rows))} of {len(rows)}):"]
    for d in rows[:sample]:
        lines.append(f"  {_who(d)}")
        if d.text:
            lines.append(f"    {d.text}")
    return lines
