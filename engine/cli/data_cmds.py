"""import, demo-data, db upgrade. (Owned by the foundation work.)"""

from __future__ import annotations

COMMANDS: list = []
