"""preview, explain, simulate, run, diff. (Owned by the evaluation work.)"""

from __future__ import annotations

COMMANDS: list = []
