"""Bounds on one render: steps, wall time, value sizes. Jinja has none of its own.

A template is code written by a marketer (or pasted from anywhere), so every render runs
under a budget. Rather than a thread or a signal (neither works in the daemon's worker
threads), the sandbox counts: each loop iteration, call, filter and intercepted operator
is a step, and the wall clock is read every few steps. Single operations stay cheap because
values are capped (`MAX_VALUE_CHARS`, `MAX_INT_BITS`, `MAX_RANGE`) before they are made or
as soon as they are made (lists nested in lists are measured all the way down).
The rendered text itself is streamed and stopped at `MAX_OUTPUT_CHARS`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jinja2.sandbox import SecurityError

MAX_OUTPUT_CHARS = 2048  # a tweet is 280 weighted characters; 2 KB is generous
MAX_VALUE_CHARS = 10_000  # any intermediate text or list
MAX_INT_BITS = 4096
MAX_RANGE = 1000
MAX_STEPS = 100_000
MAX_SECONDS = 1.0
_CLOCK_EVERY = 256  # steps between wall-clock reads


class LimitExceeded(SecurityError):
    """A render went over one of the bounds above; its message names the bound."""


class Budget:
    def __init__(self, steps: int, seconds: float) -> None:
        self.max_steps = steps
        self.seconds = seconds
        self.steps = 0
        self.deadline = time.monotonic() + seconds

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise LimitExceeded(
                f"the template runs over {self.max_steps} steps (loops, calls, filters);"
                " simplify it"
            )
        if self.steps % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise LimitExceeded(f"rendering took longer than {self.seconds:g}s")


_current: ContextVar[Budget | None] = ContextVar("rapport_render_budget", default=None)


@contextmanager
def budget(steps: int = MAX_STEPS, seconds: float = MAX_SECONDS) -> Iterator[Budget]:
    """Run a render under a fresh budget (per thread and per task: a ContextVar)."""
    token = _current.set(Budget(steps, seconds))
    try:
        current = _current.get()
        assert current is not None
        yield current
    finally:
        _current.reset(token)


def tick() -> None:
    current = _current.get()
    if current is not None:
        current.tick()


def nested_size(value: Any, limit: int = MAX_VALUE_CHARS) -> int:
    """Characters and items in `value`, nested ones included, a shared part once per use.

    `{% set x = [x, x] %}` forty times makes a list of a few dozen objects that prints as
    2**40 items: what a comparison, `~` or the output will walk is the size with every
    reference counted, so that is what is measured. Counting stops once over `limit`, so
    the check costs at most `limit` steps however big the value is.
    """
    total = 0
    pending = [value]
    while pending and total <= limit:
        item = pending.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, Mapping):
            total += len(item)
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item)
            pending.extend(item)
    return total


def check_size(value: Any) -> Any:
    """Refuse a value too big to be part of a tweet-sized message; return it otherwise."""
    if isinstance(value, str | list | tuple | dict | bytes) and len(value) > MAX_VALUE_CHARS:
        raise LimitExceeded(
            f"a value of {len(value)} characters or items is over the limit of {MAX_VALUE_CHARS}"
        )
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise LimitExceeded(f"a number over {MAX_INT_BITS} bits is not allowed")
    nests = isinstance(value, Mapping | list | tuple | set | frozenset)
    if nests and nested_size(value) > MAX_VALUE_CHARS:
        raise LimitExceeded(
            f"a value of more than {MAX_VALUE_CHARS} characters or items (nested ones"
            f" included) is over the limit of {MAX_VALUE_CHARS}"
        )
    return value


def checked_value(value: Any) -> Any:
    """A list, tuple or dict literal: a step, size-checked like any operator's result."""
    tick()
    return check_size(value)


def capped_range(*args: int) -> range:
    """`range` for templates: at most MAX_RANGE items."""
    tick()
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise LimitExceeded(f"range() of {len(numbers)} items is over the limit of {MAX_RANGE}")
    return numbers


def loop_tick() -> bool:
    """Injected at the top of every loop body and loop filter (see sandbox.py)."""
    tick()
    return True


def checked_concat(*parts: Any) -> str:
    """The `~` operator, with the size check Jinja's own concatenation lacks."""
    tick()
    texts = [str(check_size(part)) for part in parts]
    total = sum(len(text) for text in texts)
    if total > MAX_VALUE_CHARS:
        raise LimitExceeded(
            f"a value of {total} characters or items is over the limit of {MAX_VALUE_CHARS}"
        )
    return "".join(texts)
