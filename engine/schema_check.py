"""JSON Schema errors turned into positioned messages a person can act on.

Used by config.yaml and rule files alike, so both speak the same way: the place, the
value, and the fix (did-you-mean for keys, the allowed values, the expected format).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import jsonschema

from engine.errors import Problem
from engine.yamlpos import Document, Path

_TYPE_WORDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}

# A schema may name a thing ("a step", "the trigger") in `x-noun` so messages say
# "'aftr' is not a key of a step" rather than "of steps[0]".
Noun = Callable[[Path], str]


def dotted(path: Path) -> str:
    """('steps', 2, 'after') -> 'steps[2].after' — the way marketers see their file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f" (allowed: {', '.join(sorted(choices))})" if choices else ""


def _noun(schema: dict[str, Any], path: Path) -> str:
    return schema.get("x-noun") or (f"'{dotted(path)}'" if path else "the file")


def _type_words(expected: Any) -> str:
    kinds = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)


def _message(error: jsonschema.ValidationError, path: Path) -> tuple[Path, str, bool]:
    """(where, message, point-at-key) for one schema error."""
    schema, value, kind = error.schema, error.instance, error.validator
    where = dotted(path)
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = list(schema.get("properties", {}))
        extras = [k for k in value if k not in allowed]
        key = str(extras[0]) if extras else "?"
        return (
            (*path, key),
            (f"'{key}' is not a key of {_noun(schema, path)}{_did_you_mean(key, allowed)}"),
            True,
        )
    if kind == "required":
        missing = next((k for k in error.validator_value if k not in value), "?")
        return path, f"{where}: '{missing}' is required in {_noun(schema, path)}", False
    if kind == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return path, f"{where}: {value!r} is not allowed (use one of: {allowed})", False
    if kind == "type":
        return path, f"{where}: {value!r} should be {_type_words(error.validator_value)}", False
    if kind in ("pattern", "format") and "x-hint" in schema:
        return path, f"{where}: {value!r} {schema['x-hint']}", False
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        span = f"between {low} and {high}" if low is not None and high is not None else kind
        return path, f"{where}: {value!r} is out of range (use a number {span})", False
    if kind in ("minItems", "maxItems", "minLength"):
        return path, f"{where}: {error.message}", False
    if kind in ("oneOf", "anyOf") and "x-hint" in schema:
        return path, f"{where}: {schema['x-hint']}", False
    return path, f"{where}: {error.message}", False


def schema_problems(document: Document, schema: dict[str, Any]) -> list[Problem]:
    """Every schema error of `document`, each at its line and column."""
    validator = jsonschema.Draft202012Validator(schema)
    problems: list[Problem] = []
    for error in validator.iter_errors(document.data):
        # For oneOf/anyOf, the most specific sub-error reads better unless the schema
        # gives its own hint.
        if error.validator in ("oneOf", "anyOf") and "x-hint" not in error.schema:
            best = jsonschema.exceptions.best_match(error.context or [error])
            error = best if best is not None else error
        path: Path = tuple(error.absolute_path)
        where, message, at_key = _message(error, path)
        problems.append(document.problem(where, message, at_key=at_key))
    return sorted(set(problems))
