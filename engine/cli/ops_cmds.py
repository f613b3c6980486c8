"""Operations commands whose issues have not landed yet: each says so plainly (exit 2)."""

from __future__ import annotations

from engine.cli.context import not_built

COMMANDS = [
    not_built("status", "Daemon health, outbox by state, last runs."),
    not_built("worker", "Multi-machine mode on PostgreSQL."),
]
