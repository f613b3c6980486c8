"""Rule files -> a frozen Strategy: load with positions, schema, checks, compile.

Public API: load_strategy (raises InvalidInput), validate_files (never raises for bad
input), and the X rule constant ENGAGED_FIRST_EVENT_TYPES.
"""

from __future__ import annotations

from engine.strategy.loader import display_name, load_strategy, rule_files, validate_files
from engine.strategy.schema import CADENCE_SCHEMA, schema_text
from engine.strategy.xrules import ENGAGED_FIRST_EVENT_TYPES

__all__ = [
    "CADENCE_SCHEMA",
    "ENGAGED_FIRST_EVENT_TYPES",
    "display_name",
    "load_strategy",
    "rule_files",
    "schema_text",
    "validate_files",
]
