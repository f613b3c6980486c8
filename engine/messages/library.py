"""The templates folder: names, validate-time checks, and bounded rendering.

Templates are found by name inside the folder only. A name is a relative path without
`..`; after following links the file must still be inside the folder. Errors name the
template and line the way every Rapport error does: `templates/thanks.j2:3: reason`.

A template's `history["…"]` keys are read from its syntax tree before anything renders:
the evaluation computes exactly those history values (besides the conditions' ones), and
a key spelled with other spaces than the canonical one is served under that spelling too
(engine/messages/context.py documents the spelling).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import BaseLoader, Environment, Template, TemplateNotFound, meta, nodes
from jinja2.exceptions import TemplateSyntaxError

from engine.conditions import Aggregate
from engine.errors import InvalidInput, Problem, RapportError
from engine.messages import budget
from engine.messages.context import (
    HISTORY_EXAMPLE,
    VARIABLES,
    MessageContext,
    Record,
    history_aggregate,
    spelling,
)
from engine.messages.sandbox import (
    FORBIDDEN_NAMES,
    MessageEnvironment,
    forbidden_constructs,
    unknown_message,
)

MAX_TEMPLATE_BYTES = 16_384
SUFFIX = ".j2"


class TemplateError(RapportError):
    """A template could not be loaded or rendered; `line` is 0 when unknown."""

    def __init__(self, template: str, line: int, reason: str, *, folder: str = "templates") -> None:
        self.template = template
        self.line = line
        self.reason = reason
        self.problem = Problem(f"{folder}/{template}", line, 0, reason)
        super().__init__(str(self.problem))


class _RefusedName(TemplateNotFound):
    """A name the folder will not serve; the message says why."""


def resolve(folder: Path, name: str) -> Path:
    """The file for `name`, or _RefusedName: absolute, `..`, or a link out of the folder."""
    pure = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\0" in name
        or pure.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise _RefusedName(
            name, f"{name!r} is not a template name (use a file name like thanks.j2)"
        )
    root = folder.resolve()
    path = (root / pure).resolve()
    if not path.is_relative_to(root):
        raise _RefusedName(name, f"{name!r} leads outside the templates folder")
    if not path.is_file():
        raise _RefusedName(name, f"template {name!r} not found in {folder.name}/")
    return path


class FolderLoader(BaseLoader):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = resolve(self.folder, template)
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise _RefusedName(
                template, f"template is {size} bytes; the limit is {MAX_TEMPLATE_BYTES}"
            )
        mtime = path.stat().st_mtime_ns
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise _RefusedName(template, "not UTF-8 text; save it as UTF-8") from None
        return source, str(path), lambda: path.exists() and path.stat().st_mtime_ns == mtime


@dataclass(frozen=True)
class _Analysis:
    """What a template's source says before rendering: its problems and history keys."""

    problems: tuple[Problem, ...]
    history: tuple[tuple[int, str, Aggregate], ...] = ()  # (line, key as written, aggregate)
    customer: tuple[tuple[int, str], ...] = ()  # (line, name) of each customer.<name> read


# (folder, name, mtime, size) → analysis, shared by the libraries of one process
_ANALYSES: dict[tuple[Any, ...], _Analysis] = {}
_MAX_ANALYSES = 1024


class TemplateLibrary:
    """The message templates of one project, rendered in the sandbox."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.label = self.folder.name or "templates"
        self.environment = MessageEnvironment(loader=FolderLoader(self.folder))

    def names(self) -> list[str]:
        """Every *.j2 file served by this library, as posix paths relative to the folder."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.rglob(f"*{SUFFIX}"):
            name = path.relative_to(self.folder).as_posix()
            if any(part.startswith(".") for part in name.split("/")):
                continue
            try:
                resolve(self.folder, name)
            except TemplateNotFound:
                continue
            found.append(name)
        return sorted(found)

    def exists(self, name: str) -> bool:
        try:
            resolve(self.folder, name)
        except TemplateNotFound:
            return False
        return True

    def _error(self, name: str, line: int, reason: str) -> TemplateError:
        return TemplateError(name, line, reason, folder=self.label)

    def check(self, name: str) -> list[Problem]:
        """Syntax, refused constructs, unknown filters/tests, unknown variables. All of them."""
        return list(self._analysis(name).problems)

    def history_keys(self, name: str) -> dict[str, Aggregate]:
        """The history values a template names: {key as written: aggregate}. A template
        that cannot be read or parsed names none (`check` reports it)."""
        return {written: aggregate for _, written, aggregate in self._analysis(name).history}

    def history_lines(self, name: str) -> list[tuple[int, str, Aggregate]]:
        """(line, key as written, aggregate) for each `history["…"]` of a template."""
        return list(self._analysis(name).history)

    def customer_reads(self, name: str) -> list[tuple[int, str]]:
        """(line, name) for each `customer.<name>` (or `customer["name"]`) a template reads."""
        return list(self._analysis(name).customer)

    def _analysis(self, name: str) -> _Analysis:
        """Checked once per file version: every evaluation (a simulation runs hundreds)
        asks again, and a template changes far less often than it is asked about."""
        try:
            stat = resolve(self.folder, name).stat()
            version: tuple[Any, ...] | None = (
                str(self.folder.resolve()),
                name,
                stat.st_mtime_ns,
                stat.st_size,
            )
        except (TemplateNotFound, OSError):
            version = None
        if version is not None and version in _ANALYSES:
            return _ANALYSES[version]
        analysis = self._analyse(name)
        if version is not None:
            if len(_ANALYSES) >= _MAX_ANALYSES:
                _ANALYSES.clear()
            _ANALYSES[version] = analysis
        return analysis

    def _analyse(self, name: str) -> _Analysis:
        try:
            source, filename, _ = self.environment.loader.get_source(self.environment, name)  # type: ignore[union-attr]
            raw = self.environment.parse_unguarded(source, name, filename)
        except TemplateNotFound as err:
            return _Analysis((self._error(name, 0, str(err.message)).problem,))
        except TemplateSyntaxError as err:
            return _Analysis(
                (self._error(name, err.lineno, err.message or "syntax error").problem,)
            )
        except (RecursionError, MemoryError):
            return _Analysis((self._error(name, 0, "the template is nested too deeply").problem,))
        found = _static_problems(self.environment, raw) + _history_key_problems(raw)
        if not found:
            try:
                self.environment.compile(source, name, filename)
            except TemplateSyntaxError as err:
                found.append((err.lineno, err.message or "syntax error"))
        problems = sorted({self._error(name, line, message).problem for line, message in found})
        keys = []
        for line, written in _history_keys(raw):
            try:
                keys.append((line, written, history_aggregate(written)))
            except ValueError:
                continue
        return _Analysis(tuple(problems), tuple(keys), tuple(_customer_reads(raw)))

    def history_needs(self, names: Iterable[str]) -> frozenset[Aggregate]:
        """The history values these templates name, or InvalidInput with every problem of
        them: a broken template is the project's problem, found before any customer is
        evaluated, never one customer's evaluation error."""
        names = sorted(set(names))
        problems = [problem for name in names for problem in self.check(name)]
        if problems:
            raise InvalidInput(problems)
        return frozenset(a for name in names for a in self.history_keys(name).values())

    def template(self, name: str) -> Template:
        try:
            return self.environment.get_template(name)
        except TemplateNotFound as err:
            raise self._error(name, 0, str(err.message)) from None
        except TemplateSyntaxError as err:
            raise self._error(name, err.lineno, err.message or "syntax error") from None
        except (RecursionError, MemoryError):
            raise self._error(name, 0, "the template is nested too deeply") from None

    def render(self, name: str, context: MessageContext) -> str:
        """The message text (outer whitespace stripped). TemplateError on anything wrong."""
        template = self.template(name)
        pieces: list[str] = []
        size = 0
        try:
            with budget.budget():
                stream = template.generate(self._variables(name, context))
                assert isinstance(stream, Generator)
                try:
                    for piece in stream:
                        size += len(piece)
                        if size > budget.MAX_OUTPUT_CHARS:
                            raise self._error(
                                name,
                                _stream_line(stream, template),
                                f"the output is over {budget.MAX_OUTPUT_CHARS} characters",
                            )
                        pieces.append(piece)
                finally:
                    stream.close()
        except TemplateError:
            raise
        except RecursionError:
            raise self._error(name, 0, "the template is nested too deeply") from None
        except Exception as err:  # every render failure is the template's, reported with its line
            raise self._error(name, _template_line(err, template), _reason(err)) from None
        return "".join(pieces).strip()

    def _variables(self, name: str, context: MessageContext) -> dict[str, Any]:
        """The context's names, with history values also under the template's own spelling."""
        variables = context.variables()
        history = context.history
        aliases = {
            written: history[key]
            for written, aggregate in self.history_keys(name).items()
            if written not in history and (key := spelling(aggregate)) in history
        }
        if aliases:
            variables["history"] = Record("history", {**history, **aliases})
        return variables


def _history_keys(tree: nodes.Template) -> list[tuple[int, str]]:
    """(line, key) for every `history["…"]` with a written-out key."""
    return [
        (node.lineno, node.arg.value)
        for node in tree.find_all(nodes.Getitem)
        if _is_history(node.node)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ]


def _is_history(node: nodes.Node) -> bool:
    return _is_variable(node, "history")


def _is_variable(node: nodes.Node, name: str) -> bool:
    return isinstance(node, nodes.Name) and node.name == name and node.ctx == "load"


def _customer_reads(tree: nodes.Template) -> list[tuple[int, str]]:
    found = {
        (node.lineno, node.attr)
        for node in tree.find_all(nodes.Getattr)
        if _is_variable(node.node, "customer")
    }
    found |= {
        (node.lineno, node.arg.value)
        for node in tree.find_all(nodes.Getitem)
        if _is_variable(node.node, "customer")
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    }
    return sorted(found)


def _history_key_problems(tree: nodes.Template) -> list[tuple[int, str]]:
    found = []
    for line, written in _history_keys(tree):
        try:
            history_aggregate(written)
        except ValueError as exc:
            found.append((line, str(exc)))
    for node in tree.find_all(nodes.Getitem):
        if _is_history(node.node) and not (
            isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)
        ):
            found.append(
                (
                    node.lineno,
                    "write the history key out, e.g. "
                    f"{HISTORY_EXAMPLE}: Rapport computes the values a template names",
                )
            )
    return found


def _reason(err: BaseException) -> str:
    return str(getattr(err, "message", None) or err or type(err).__name__)


def _stream_line(stream: Generator[str, None, None], template: Template) -> int:
    """The template line a paused render is at: follow `yield from` to the render function."""
    current: Any = stream
    while getattr(current, "gi_yieldfrom", None) is not None:
        current = current.gi_yieldfrom
    frame = getattr(current, "gi_frame", None)
    if frame is None or frame.f_code.co_filename != template.filename:
        return 0
    return int(template.get_corresponding_lineno(frame.f_lineno))


def _template_line(err: BaseException, template: Template) -> int:
    """The template line in Jinja's rewritten traceback (0 if the error is not in it)."""
    lines = [
        frame.lineno or 0
        for frame in traceback.extract_tb(err.__traceback__)
        if frame.filename == template.filename
    ]
    return lines[-1] if lines else 0


def _static_problems(env: MessageEnvironment, tree: nodes.Template) -> list[tuple[int, str]]:
    found = forbidden_constructs(tree) + env.unknown_names(tree)
    known = set(VARIABLES) | set(env.globals)
    try:
        undeclared = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError:  # an unknown filter stops Jinja's analysis: approximate it
        stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        undeclared = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - stored
    for name in sorted(undeclared - known - FORBIDDEN_NAMES):
        line = min(n.lineno for n in tree.find_all(nodes.Name) if n.name == name)
        found.append((line, unknown_message("variable", name, known)))
    return found
