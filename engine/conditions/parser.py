"""Recursive-descent parser: condition text -> AST (docs/conditions.md).

Grammar (lowest precedence first)::

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := operand [("=="|"!="|"<"|"<="|">"|">="|"in"|"not" "in"|"contains") operand]
    operand    := literal | "-" number | list | name | call | "(" condition ")"
    call       := FUNCTION "(" argument ("," argument)* ")"
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import timedelta

from engine.conditions.ast import (
    FUNCTIONS,
    Aggregate,
    BoolOp,
    Compare,
    Expr,
    ListLiteral,
    Literal,
    Name,
    Not,
)
from engine.conditions.errors import ConditionError
from engine.conditions.tokens import KEYWORDS, Token, tokenize
from engine.durations import MAX_DURATION, MAX_DURATION_HINT

SCOPES = ("customer", "event")
MAX_WINDOW = MAX_DURATION  # as for every duration in a rule file
# Parentheses, brackets and `not`s nest; deeper than this is a mistake (and Python's
# recursion limit, here and in every walk over the tree, is not far beyond).
MAX_DEPTH = 50
_COMPARE_TOKENS = ("==", "!=", "<", "<=", ">", ">=")
_CONSTANTS = {"true": True, "false": False, "null": None}
# name, how it is called, whether TYPE carries a property, whether WITHIN is allowed
_SIGNATURES = {
    "count": ("TYPE[, WITHIN]", False, True),
    "sum": ("TYPE.PROP[, WITHIN]", True, True),
    "days_since": ("TYPE", False, False),
    "last": ("TYPE.PROP", True, False),
}


def parse_condition(text: str) -> Expr:
    """Parse one condition; raise ConditionError (with its offset) on the first problem."""
    parser = _Parser(text, tokenize(text))
    if parser.peek().kind == "end":
        raise ConditionError(0, "empty condition")
    expr = parser.condition()
    parser.expect_end()
    return expr


def _did_you_mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0
        self.open_parens: list[Token] = []
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.pos += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind in ("op", "ident") and token.text == text

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind == "end":
            return
        if token.text == ")":
            raise ConditionError(
                token.offset,
                "unbalanced parenthesis: ')' has no matching '('",
            )
        raise ConditionError(
            token.offset,
            f"unexpected {token.text!r} after a complete condition"
            " (join conditions with 'and' / 'or')",
        )

    def condition(self) -> Expr:
        return self._chain("or", self._and)

    def _and(self) -> Expr:
        return self._chain("and", self._not)

    def _chain(self, word: str, part: Callable[[], Expr]) -> Expr:
        first = part()
        operands = [first]
        while self.at(word):
            self.advance()
            operands.append(part())
        if len(operands) == 1:
            return first
        return BoolOp(word, tuple(operands), first.offset)  # type: ignore[arg-type]

    def _not(self) -> Expr:
        if self.at("not") and not (self.peek(1).kind == "ident" and self.peek(1).text == "in"):
            token = self.advance()
            self._deeper(token)
            operand = self._not()
            self.depth -= 1
            return Not(operand, token.offset)
        return self._comparison()

    def _deeper(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(
                token.offset,
                f"conditions nest too deeply (at most {MAX_DEPTH} levels); simplify the condition",
            )

    def _comparison(self) -> Expr:
        left = self._operand()
        op = self._compare_op()
        if op is None:
            return left
        if op in ("in", "not in") and self.at("("):
            self._refuse_parenthesized_list()
        right = self._operand()
        if self._compare_op(consume=False) is not None:
            token = self.peek()
            raise ConditionError(
                token.offset,
                f"comparisons cannot be chained ({token.text!r}); join them with 'and'",
            )
        return Compare(op, left, right, left.offset)  # type: ignore[arg-type]

    def _refuse_parenthesized_list(self) -> None:
        """`in ("a", "b")`, as in SQL or Python: show the list with square brackets."""
        opening, depth = self.peek(), 0
        for token in self.tokens[self.pos :]:
            depth += {"(": 1, ")": -1}.get(token.text, 0) if token.kind == "op" else 0
            if depth == 0 or token.kind == "end":
                inner = self.text[opening.offset + 1 : token.offset].strip()
                raise ConditionError(opening.offset, f"lists use square brackets: [{inner}]")

    def _compare_op(self, consume: bool = True) -> str | None:
        token = self.peek()
        if (token.kind == "op" and token.text in _COMPARE_TOKENS) or (
            token.kind == "ident" and token.text in ("in", "contains")
        ):
            op = token.text
        elif self.at("not") and self.peek(1).kind == "ident" and self.peek(1).text == "in":
            op = "not in"
        else:
            return None
        if consume:
            self.pos += 2 if op == "not in" else 1
        return op

    def _operand(self) -> Expr:
        token = self.peek()
        if token.kind == "duration" and token.value == timedelta.max:
            raise ConditionError(token.offset, f"{token.text!r} is too long ({MAX_DURATION_HINT})")
        if token.kind in ("number", "duration", "string"):
            self.advance()
            return Literal(token.value, token.offset)
        if token.kind == "op" and token.text == "-" and self.peek(1).kind == "number":
            self.advance()
            number = self.advance()
            assert isinstance(number.value, int | float)
            return Literal(-number.value, token.offset)
        if token.kind == "op" and token.text == "(":
            return self._parenthesized()
        if token.kind == "op" and token.text == "[":
            return self._list()
        if token.kind == "ident":
            return self._word()
        if token.kind == "op" and token.text == ")" and not self.open_parens:
            self.expect_end()
        raise ConditionError(token.offset, f"expected a value, got {token.describe()}")

    def _parenthesized(self) -> Expr:
        opening = self.advance()
        self._deeper(opening)
        self.open_parens.append(opening)
        inner = self.condition()
        self._close(opening, ")")
        self.open_parens.pop()
        self.depth -= 1
        return inner

    def _close(self, opening: Token, closing: str) -> None:
        token = self.peek()
        if token.kind == "op" and token.text == closing:
            self.advance()
            return
        if token.kind == "end":
            raise ConditionError(
                opening.offset,
                f"unbalanced {'parenthesis' if closing == ')' else 'bracket'}: {opening.text!r}"
                " is never closed",
            )
        raise ConditionError(
            token.offset,
            f"expected {closing!r} to close {opening.text!r}, got {token.describe()}",
        )

    def _list(self) -> Expr:
        opening = self.advance()
        self._deeper(opening)
        items: list[Expr] = []
        if not self.at("]"):
            items.append(self._operand())
            while self.at(","):
                self.advance()
                items.append(self._operand())
        self._close(opening, "]")
        self.depth -= 1
        return ListLiteral(tuple(items), opening.offset)

    def _word(self) -> Expr:
        token = self.advance()
        word = token.text
        if word in _CONSTANTS:
            return Literal(_CONSTANTS[word], token.offset)
        if self.at("("):
            return self._call(token)
        if "." in word:
            return _name(token)
        if word in KEYWORDS:
            raise ConditionError(token.offset, f"expected a value, got {word!r}")
        close = _did_you_mean(word, FUNCTIONS)
        before = self.tokens[self.pos - 2].text if self.pos >= 2 else ""
        as_text = not close and before in (*_COMPARE_TOKENS, "in", "contains", "[", ",")
        raise ConditionError(
            token.offset,
            f"unknown name {word!r}{close} (names are customer.<field> or event.<property>)"
            + (f'; put text in quotes: "{word}"' if as_text else ""),
        )

    def _call(self, function: Token) -> Expr:
        name = function.text
        if name not in _SIGNATURES:
            raise ConditionError(
                function.offset,
                f"unknown function {name!r}{_did_you_mean(name, FUNCTIONS)}"
                f" (functions are {', '.join(FUNCTIONS)})",
            )
        opening = self.advance()
        self.open_parens.append(opening)
        args: list[Token] = []
        if not self.at(")"):
            args.append(self.advance())
            while self.at(","):
                self.advance()
                args.append(self.advance())
        self._close(opening, ")")
        self.open_parens.pop()
        return _aggregate(function, args)


def _name(token: Token) -> Name:
    scope, _, field = token.text.partition(".")
    if scope not in SCOPES:
        raise ConditionError(
            token.offset,
            f"unknown scope {scope!r} in {token.text!r}{_did_you_mean(scope, list(SCOPES))}"
            " (names are customer.<field> or event.<property>)",
        )
    if "." in field:
        raise ConditionError(
            token.offset, f"{token.text!r} has too many parts; use {scope}.<field>"
        )
    return Name(scope, field, token.offset)  # type: ignore[arg-type]


def _aggregate(function: Token, args: list[Token]) -> Aggregate:
    name = function.text
    usage, wants_prop, windowed = _SIGNATURES[name]
    most = 2 if windowed else 1
    if not 1 <= len(args) <= most:
        counted = "1 or 2 arguments" if windowed else "1 argument"
        raise ConditionError(
            function.offset, f"{name}() takes {counted} ({usage}), got {len(args)}"
        )
    target = args[0]
    event_type, _, prop = target.text.partition(".")
    if target.kind != "ident" or target.text in KEYWORDS or "." in prop:
        raise ConditionError(
            target.offset, f"{name}() needs {usage.split('[')[0]}, got {target.describe()}"
        )
    if wants_prop and not prop:
        raise ConditionError(
            target.offset,
            f"{name}() needs an event property, like {name}({event_type}.amount)",
        )
    if not wants_prop and prop:
        raise ConditionError(
            target.offset, f"{name}() takes an event type, not a property: {target.text!r}"
        )
    within: timedelta | None = None
    if len(args) == 2:
        window = args[1]
        if window.kind != "duration" or not isinstance(window.value, timedelta):
            raise ConditionError(
                window.offset,
                f"{name}() WITHIN must be a duration like 30d, got {window.describe()}",
            )
        within = _window(name, window, window.value)
    return Aggregate(name, event_type, prop or None, within, function.offset)  # type: ignore[arg-type]


def _window(name: str, window: Token, within: timedelta) -> timedelta:
    if within > MAX_WINDOW:
        raise ConditionError(
            window.offset,
            f"{name}() window {window.text!r} is too long ({MAX_DURATION_HINT})",
        )
    if within == timedelta(0):
        raise ConditionError(
            window.offset,
            f"{name}() window {window.text!r} is empty: a 0 window is always empty "
            f"(leave it out for all time, or use e.g. 30d)",
        )
    return within
