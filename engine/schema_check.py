"""JSON Schema errors turned into positioned messages a person can act on.

Used by config.yaml and rule files alike, so both speak the same way: the place, the
value, and the fix (did-you-mean for keys, the allowed values, the expected format).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
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
    return " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds)


Found = tuple[Path, str, bool]  # (where, message, point at the key)


def _unknown_keys(schema: dict[str, Any], value: dict[Any, Any], path: Path) -> list[Found]:
    """One message per unknown key, each at the key, with the closest known key."""
    allowed = [str(k) for k in schema.get("properties", {})]
    return [
        (
            (*path, str(key)),
            f"'{key}' is not a key of {_noun(schema, path)}{_did_you_mean(str(key), allowed)}",
            True,
        )
        for key in value
        if str(key) not in allowed
    ]


def _enum_message(where: str, shown: str, word: str, allowed_values: list[Any]) -> str:
    allowed = ", ".join(str(v) for v in allowed_values)
    close = _did_you_mean(word, [str(v) for v in allowed_values])
    hint = close if close.startswith(";") else ""
    return f"{where}: {shown} is not allowed{hint} (use one of: {allowed})"


def _choice_message(schema: dict[str, Any], where: str, value: Any, shown: str) -> str | None:
    hint = schema.get("x-choice") or schema.get("x-hint")
    if hint is None:
        return None
    return f"{where}: {hint}" if isinstance(value, dict | list) else f"{where}: {shown} {hint}"


def _required_message(schema: dict[str, Any], value: Any, needed: list[str], path: Path) -> str:
    missing = next((k for k in needed if k not in value), "?")
    fix = schema.get("x-required", {}).get(missing)
    text = f"'{missing}' is required in {_noun(schema, path)}" + (f" ({fix})" if fix else "")
    return f"{dotted(path)}: {text}" if path else text


def _messages(error: jsonschema.ValidationError, path: Path, written: str | None) -> list[Found]:
    """(where, message, point-at-key) for one schema error. `written` is the value's own
    text when Python's spelling of it would mislead (YAML's `yes` is not `True`)."""
    schema: dict[str, Any] = dict(error.schema) if isinstance(error.schema, Mapping) else {}
    value, kind, where = error.instance, error.validator, dotted(path)
    expected: Any = error.validator_value
    hint = schema.get("x-hint")
    shown = repr(value) if written is None else f"{written} (read by YAML as {str(value).lower()})"
    if kind == "additionalProperties" and isinstance(value, dict):
        return _unknown_keys(schema, value, path)
    if "propertyNames" in error.relative_schema_path and hint:
        return [((*path, str(value)), f"{where}: {shown} {hint}", True)]
    if kind == "required":
        return [(path, _required_message(schema, value, expected, path), False)]
    if kind == "enum":
        word = str(value) if written is None else written
        return [(path, _enum_message(where, shown, word, expected), False)]
    if kind in ("type", "pattern", "format", "const", "minLength") and hint:
        return [(path, f"{where}: {shown} {hint}", False)]
    if kind == "type":
        head = f"{where}:" if path else where
        if not isinstance(value, dict | list):
            head += f" {shown}"
        return [(path, f"{head} should be {_type_words(expected)}", False)]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        span = f"between {low} and {high}" if low is not None and high is not None else kind
        if low is not None and high is None:
            span = f"of {low} or more"
        return [(path, f"{where}: {shown} is out of range (use a number {span})", False)]
    if kind in ("minItems", "minProperties"):
        count = expected
        words = ("item", "items") if kind == "minItems" else ("entry", "entries")
        return [(path, f"{where}: needs at least {count} {words[count != 1]}", False)]
    if kind in ("oneOf", "anyOf") and (message := _choice_message(schema, where, value, shown)):
        return [(path, message, False)]
    return [(path, f"{where}: {error.message}", False)]


def _full_pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """`pattern` with its final `$` read as end-of-text.

    jsonschema uses re.search, where `$` also matches before a final newline, so '2d\\n'
    (a block scalar, or "2d\\n") would pass as a duration and crash later. The schema
    itself keeps `$`: editors read it as ECMA regex, which has no end-of-text anchor.
    """
    if not validator.is_type(instance, "string"):
        return
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + "\\Z"
    if re.search(pattern, instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def schema_problems(document: Document, schema: dict[str, Any]) -> list[Problem]:
    """Every schema error of `document`, each at its line and column."""
    base = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls = jsonschema.validators.extend(base, {"pattern": _full_pattern})
    validator = cls(schema)
    problems: list[Problem] = []
    for error in validator.iter_errors(document.data):
        # For oneOf/anyOf, the most specific sub-error reads better unless the schema
        # gives its own hint.
        if error.validator in ("oneOf", "anyOf") and not _has_hint(error.schema):
            best = jsonschema.exceptions.best_match(error.context or [error])
            error = best if best is not None else error
        path: Path = tuple(error.absolute_path)
        written = _yaml_word(document, path, error.instance)
        if written is not None and validator.evolve(schema=error.schema).is_valid(written):
            message = f"{dotted(path)}: {_quote_hint(written, error.instance)}"
            problems.append(document.problem(path, message))
            continue
        for where, message, at_key in _messages(error, path, written):
            problems.append(document.problem(where, message, at_key=at_key))
    return sorted(set(problems))


# YAML 1.1 reads these words as booleans; users write them meaning the word.
_BOOLEAN_WORDS = re.compile(r"(?i:y|yes|n|no|on|off)")


def _yaml_word(document: Document, path: Path, value: Any) -> str | None:
    """The text the user wrote for a boolean value when it was not `true`/`false`."""
    if not isinstance(value, bool):
        return None
    span = document.positions.spans.get(path)
    if span is None:
        return None
    text = document.text[span[0] : span[1]]
    return text if _BOOLEAN_WORDS.fullmatch(text) else None


def _quote_hint(written: str, value: bool) -> str:
    return f"{written} is read by YAML as {str(value).lower()}; put it in quotes ('{written}')"


def _has_hint(schema: Any) -> bool:
    return isinstance(schema, dict) and ("x-choice" in schema or "x-hint" in schema)
