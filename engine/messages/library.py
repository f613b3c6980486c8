"""The templates folder: names, validate-time checks, and bounded rendering.

Templates are found by name inside the folder only. A name is a relative path without
`..`; after following links the file must still be inside the folder. Errors name the
template and line the way every Rapport error does: `templates/thanks.j2:3: reason`.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Generator
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import BaseLoader, Environment, Template, TemplateNotFound, meta, nodes
from jinja2.exceptions import TemplateSyntaxError

from engine.errors import Problem, RapportError
from engine.messages import budget
from engine.messages.context import VARIABLES, MessageContext
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
        source = path.read_text(encoding="utf-8")
        return source, str(path), lambda: path.exists() and path.stat().st_mtime_ns == mtime


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
        try:
            source, filename, _ = self.environment.loader.get_source(self.environment, name)  # type: ignore[union-attr]
            raw = self.environment.parse_unguarded(source, name, filename)
        except TemplateNotFound as err:
            return [self._error(name, 0, str(err.message)).problem]
        except TemplateSyntaxError as err:
            return [self._error(name, err.lineno, err.message or "syntax error").problem]
        except (RecursionError, MemoryError):
            return [self._error(name, 0, "the template is nested too deeply").problem]
        found = _static_problems(self.environment, raw)
        if not found:
            try:
                self.environment.compile(source, name, filename)
            except TemplateSyntaxError as err:
                found.append((err.lineno, err.message or "syntax error"))
        return sorted({self._error(name, line, message).problem for line, message in found})

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
                stream = template.generate(context.variables())
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
