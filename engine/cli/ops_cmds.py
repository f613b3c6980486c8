"""Operations commands whose issues have not landed yet: each says so plainly (exit 2)."""

from __future__ import annotations

from engine.cli.context import not_built

COMMANDS = [
    not_built("review", "List the review queue of assisted messages."),
    not_built("approve", "Approve messages in the review queue by ID."),
    not_built("reject", "Reject messages in the review queue by ID."),
    not_built("mark-sent", "Record a message a person posted from the review queue."),
    not_built("report", "Sends, responses, lift against holdout and ROI per cadence."),
    not_built("status", "Daemon health, outbox by state, last runs."),
    not_built("worker", "Multi-machine mode on PostgreSQL."),
]
