"""The Jinja environment for messages: Jinja's immutable sandbox, narrowed to an allow-list.

Layers, outermost first:
1. Parse time (`guard_template`): constructs a tweet never needs and that would escape the
   streamed, bounded output are refused with their line: macros, {% call %}, include /
   import / extends, {% set %}…{% endset %} and {% filter %} blocks, recursive loops, `self`,
   and any name or attribute starting with an underscore.
2. Rewrite (`_Instrument`): each loop body and loop filter starts with a budget tick,
   `~` goes through a size-checked concatenation (Jinja's own is not interceptable), and
   list, tuple and dict literals are size-checked, nested items included.
3. Run time (`MessageEnvironment`): attribute access, item access, calls and the operators
   + * ** % go through allow-lists and the budget; str.format is not available at all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.filters import FILTERS
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import missing
from jinja2.visitor import NodeTransformer

from engine.messages import budget
from engine.messages.budget import MAX_INT_BITS, MAX_VALUE_CHARS, LimitExceeded, check_size, tick
from engine.messages.context import Record
from engine.messages.filters import filter_table

_HELPERS = "engine.messages.budget"
FORBIDDEN_NAMES = {"self", "caller", "varargs", "kwargs"}
_FORBIDDEN_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "macros are not allowed in message templates",
    nodes.CallBlock: "{% call %} is not allowed in message templates",
    nodes.Include: "{% include %} is not allowed in message templates"
    " (use the step's fallback: for a shorter version)",
    nodes.Import: "{% import %} is not allowed in message templates",
    nodes.FromImport: "{% from ... import %} is not allowed in message templates",
    nodes.Extends: "{% extends %} is not allowed in message templates",
    nodes.AssignBlock: "{% set %}...{% endset %} blocks are not allowed in message templates;"
    " use {% set name = value %}",
    nodes.FilterBlock: "{% filter %} blocks are not allowed in message templates;"
    " apply the filter to a value",
}

_STR_METHODS = {
    "lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip",
    "startswith", "endswith", "split",
}  # fmt: skip
_MAPPING_METHODS = {"get", "items", "keys", "values"}
_TIME_ATTRIBUTES = {
    "year", "month", "day", "hour", "minute", "second", "weekday", "isoweekday",
    "isoformat", "strftime", "date",
}  # fmt: skip
_LOOP_ATTRIBUTES = {
    "index", "index0", "revindex", "revindex0", "first", "last", "length", "depth",
    "depth0", "previtem", "nextitem", "cycle", "changed",
}  # fmt: skip


def allowed_attribute(obj: Any, name: str) -> bool:
    """The allow-list: which attributes of which plain types a template may read."""
    if name.startswith("_"):
        return False
    if isinstance(obj, str):
        return name in _STR_METHODS
    if isinstance(obj, Mapping):
        return name in _MAPPING_METHODS
    if isinstance(obj, datetime | date):
        return name in _TIME_ATTRIBUTES
    if isinstance(obj, LoopContext):
        return name in _LOOP_ATTRIBUTES
    return False


def _refusal(node: nodes.Node) -> str | None:
    for kind, message in _FORBIDDEN_NODES.items():
        if isinstance(node, kind):
            return message
    if isinstance(node, nodes.For) and node.recursive:
        return "recursive loops are not allowed in message templates"
    if isinstance(node, nodes.Name) and node.name in FORBIDDEN_NAMES:
        return f"'{node.name}' is not available in message templates"
    private = getattr(node, "name" if isinstance(node, nodes.Name) else "attr", None)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        private = node.arg.value
    if isinstance(private, str) and private.startswith("_"):
        return f"'{private}' is not available in message templates (names with _ are private)"
    return None


def forbidden_constructs(tree: nodes.Template) -> list[tuple[int, str]]:
    """Every construct layer 1 refuses, as (line, message), in source order."""
    found = []
    for node in tree.find_all(nodes.Node):
        message = _refusal(node)
        if message is not None:
            found.append((node.lineno, message))
    return sorted(set(found))


def unknown_message(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(names)}"
    return f"unknown {kind} {name!r} ({hint})"


def _helper(name: str, lineno: int, *args: nodes.Expr) -> nodes.Call:
    return nodes.Call(
        nodes.ImportedName(f"{_HELPERS}.{name}", lineno=lineno),
        list(args),
        [],
        None,
        None,
        lineno=lineno,
    )


class _Instrument(NodeTransformer):
    """Layer 2: budget ticks in loops, checked `~`, checked literals."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, nodes.ExprStmt(_helper("loop_tick", node.lineno), lineno=node.lineno))
        if node.test is not None:
            node.test = nodes.And(_helper("loop_tick", node.lineno), node.test, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _helper("checked_concat", node.lineno, *node.nodes)

    # literals nest references without any operator: `{% set x = [x, x] %}` doubles x
    def visit_List(self, node: nodes.List) -> nodes.Node:
        return self._checked_literal(node)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        return self._checked_literal(node)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Node:
        return self._checked_literal(node)

    def _checked_literal(self, node: nodes.List | nodes.Tuple | nodes.Dict) -> nodes.Node:
        self.generic_visit(node)
        if getattr(node, "ctx", "load") != "load":
            return node  # a target: {% set a, b = ... %}, {% for k, v in ... %}
        return _helper("checked_value", node.lineno, node)


class MessageUndefined(StrictUndefined):
    """Strict, with messages in the marketer's words: `customer.city is missing`."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name = self._undefined_name
        obj = self._undefined_obj
        if obj is missing:
            return f"{name!r} is undefined"
        if isinstance(obj, Record):
            where = f"{obj.path}.{name}" if str(name).isidentifier() else f"{obj.path}[{name!r}]"
            return f"{where} is missing (write {where}|default(...) if it can be absent)"
        if obj is None:
            return f"cannot read {name!r} of a null value"
        return f"{type(obj).__name__} has no {name!r}"


class MessageEnvironment(ImmutableSandboxedEnvironment):
    """Layer 3. Globals: only a capped `range`. Filters: filters.filter_table."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(
            autoescape=False,
            undefined=MessageUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=True,
            **options,
        )
        self.globals.clear()
        self.globals["range"] = budget.capped_range
        self.filters = filter_table(FILTERS)
        self._helpers = {
            budget.capped_range,
            budget.loop_tick,
            budget.checked_concat,
            budget.checked_value,
        }

    # layers 1 and 2 run on every parse, so compile-time and check-time see the same rules
    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = self.parse_unguarded(source, name, filename)
        refused = forbidden_constructs(tree) + self.unknown_names(tree)
        if refused:
            line, message = refused[0]
            raise TemplateSyntaxError(message, line, name, filename)
        instrumented = _Instrument().visit(tree)
        assert isinstance(instrumented, nodes.Template)
        return instrumented

    def unknown_names(self, tree: nodes.Template) -> list[tuple[int, str]]:
        """Filters and tests not on the allow-list, as (line, message)."""
        found = []
        for node in tree.find_all((nodes.Filter, nodes.Test)):
            kind, table = (
                ("filter", self.filters) if isinstance(node, nodes.Filter) else ("test", self.tests)
            )
            if node.name in table:
                continue
            if kind == "filter" and node.name in FILTERS:
                message = f"filter {node.name!r} is not allowed in message templates"
            else:
                message = unknown_message(kind, node.name, table)
            found.append((node.lineno, message))
        return sorted(set(found))

    def parse_unguarded(
        self, source: str, name: str | None, filename: str | None
    ) -> nodes.Template:
        return super()._parse(source, name, filename)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return allowed_attribute(obj, attr)

    def is_safe_callable(self, obj: Any) -> bool:
        if obj in self._helpers:
            return True
        owner = getattr(obj, "__self__", None)
        name = getattr(obj, "__name__", "")
        return owner is not None and allowed_attribute(owner, name)

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format / format_map: refused by the allow-list instead

    def getattr(self, obj: Any, attribute: str) -> Any:
        tick()
        if isinstance(obj, Mapping) and attribute in obj and not attribute.startswith("_"):
            return obj[attribute]  # data wins: customer.items is the attribute, not dict.items
        if isinstance(obj, Mapping) and attribute not in _MAPPING_METHODS:
            self._refuse_private(obj, attribute)
            return self.undefined(obj=obj, name=attribute)
        return self._allowed_attribute(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        tick()
        if isinstance(argument, str) and argument.startswith("_"):
            self._refuse_private(obj, argument)
        try:
            return obj[argument]
        except (TypeError, LookupError):
            if isinstance(argument, str) and not isinstance(obj, Mapping):
                return self._allowed_attribute(obj, argument)
        return self.undefined(obj=obj, name=argument)

    def _allowed_attribute(self, obj: Any, attribute: str) -> Any:
        self._refuse_private(obj, attribute)
        if isinstance(obj, MessageUndefined):
            return obj  # keep the first missing name: "customer.address is missing"
        if obj is None:
            return self.undefined(obj=obj, name=attribute)
        if not allowed_attribute(obj, attribute):
            raise SecurityError(
                f"{type(obj).__name__}.{attribute} is not available in message templates"
            )
        return getattr(obj, attribute)

    @staticmethod
    def _refuse_private(obj: Any, attribute: str) -> None:
        if attribute.startswith("_"):
            raise SecurityError(
                f"'{attribute}' is not available in message templates (names with _ are private)"
            )

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(
            f"{type(obj).__name__}.{attribute} is not available in message templates"
        )

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        tick()
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"calling {__obj!r} is not allowed in message templates")
        return check_size(__context.call(__obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        tick()
        if operator == "%" and isinstance(left, str):
            raise SecurityError("'%' formatting is not allowed in message templates; use filters")
        if operator == "**":
            _check_power(left, right)
        if operator == "*":
            _check_repeat(left, right)
        return check_size(self.binop_table[operator](left, right))


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(exponent, int | float) and isinstance(base, int | float):
        size = max(abs(int(base)), 2).bit_length() * abs(exponent)
        if size > MAX_INT_BITS:
            raise LimitExceeded(f"a number over {MAX_INT_BITS} bits is not allowed")


def _check_repeat(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        repeats = isinstance(seq, str | list | tuple) and isinstance(times, int)
        if repeats and len(seq) * times > MAX_VALUE_CHARS:
            raise LimitExceeded(
                f"repeating a value {times} times is over the limit of"
                f" {MAX_VALUE_CHARS} characters or items"
            )
