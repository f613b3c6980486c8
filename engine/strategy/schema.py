"""The JSON Schema of cadence files, shipped in the package for editors and `rapport schema`.

It is a file (not a Python dict) so yaml-language-server can read it as written:
`# yaml-language-server: $schema=...` at the top of a rule file. Messages use its
x-noun / x-hint / x-choice / x-required words (see engine.schema_check).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_FILE = "cadence.schema.json"


def schema_text() -> str:
    return resources.files("engine.strategy").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


CADENCE_SCHEMA: dict[str, Any] = json.loads(schema_text())
