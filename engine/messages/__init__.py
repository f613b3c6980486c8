"""Messages: sandboxed Jinja templates rendered into X-sized, X-legal texts (docs/templates.md).

- `TemplateLibrary(folder)`: names, `check(name)` for `rapport validate`, `render(name, ctx)`.
- `MessageContext.build(...)`: the plain data a template sees; `history_key(text)` the one
  spelling of a `history["…"]` key (docs/templates.md).
- `compose_message(...)`: render, fall back when over 280, apply X's mention rules.
- `check_step_lengths(...)`: validate-time renders against sample customers.
- `duplicate_texts(...)`: texts X would refuse as duplicates (preview warning).
"""

from __future__ import annotations

from engine.messages.checks import LengthReport, StepTemplates, check_step_lengths
from engine.messages.compose import MessageRefusal, Rendered, compose_message, duplicate_texts
from engine.messages.context import VARIABLES, MessageContext, Record, history_key
from engine.messages.length import MAX_WEIGHTED_LENGTH, mentions, weighted_length
from engine.messages.library import TemplateError, TemplateLibrary
from engine.messages.samples import sample_customers, sample_event, sample_history

__all__ = [
    "MAX_WEIGHTED_LENGTH",
    "VARIABLES",
    "LengthReport",
    "MessageContext",
    "MessageRefusal",
    "Record",
    "Rendered",
    "StepTemplates",
    "TemplateError",
    "TemplateLibrary",
    "check_step_lengths",
    "compose_message",
    "duplicate_texts",
    "history_key",
    "mentions",
    "sample_customers",
    "sample_event",
    "sample_history",
    "weighted_length",
]
