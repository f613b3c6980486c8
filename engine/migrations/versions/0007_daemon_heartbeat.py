"""daemon_heartbeat: the running daemon's pid, host, start, last tick and rules

One row (id 1), rewritten by each daemon that starts: `rapport status` reads it, and a
second daemon names the running one from it when it refuses to start.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.history.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daemon_heartbeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", engine.history.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_tick_at", engine.history.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_tick_seconds", sa.Float(), nullable=True),
        sa.Column("rules_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "rules_loaded_at", engine.history.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_reload_error", sa.Text(), nullable=True),
        sa.Column("stopped_at", engine.history.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daemon_heartbeat")),
    )


def downgrade() -> None:
    op.drop_table("daemon_heartbeat")
