"""operator_pauses, deleted_posts (and daemon_heartbeat): what an operator decides

- operator_pauses: one row per pause (a cadence, or "*" for all sending), so a pause
  survives restarts and the daemon in another process sees it before its next HTTP call;
- deleted_posts: posts X reported deleted (or an operator listed), whose stored text the
  next housekeeping run removes;
- daemon_heartbeat: the same table, columns and names as the daemon's own migration
  (0007), created here only when absent, so `rapport status` can read it on a database
  the daemon never touched. Whichever of the two runs first creates it; the other skips.

Revision ID: 0009
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.history.models

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_TIME = engine.history.models.UtcDateTime(timezone=True)


def _has_table(name: str) -> bool:
    return name in sa.inspect(op.get_bind()).get_table_names()


def upgrade() -> None:
    op.create_table(
        "operator_pauses",
        sa.Column("cadence", sa.String(length=100), nullable=False),
        sa.Column("paused_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("cadence", name=op.f("pk_operator_pauses")),
    )
    op.create_table(
        "deleted_posts",
        sa.Column("post_id", sa.String(length=32), nullable=False),
        sa.Column("reported_at", UTC_TIME, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("purged_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_deleted_posts")),
    )
    if not _has_table("daemon_heartbeat"):
        op.create_table(
            "daemon_heartbeat",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("pid", sa.Integer(), nullable=False),
            sa.Column("host", sa.String(length=255), nullable=False),
            sa.Column("started_at", UTC_TIME, nullable=False),
            sa.Column("last_tick_at", UTC_TIME, nullable=True),
            sa.Column("last_tick_seconds", sa.Float(), nullable=True),
            sa.Column("rules_hash", sa.String(length=64), nullable=True),
            sa.Column("rules_loaded_at", UTC_TIME, nullable=True),
            sa.Column("last_reload_error", sa.Text(), nullable=True),
            sa.Column("stopped_at", UTC_TIME, nullable=True),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_daemon_heartbeat")),
        )


def downgrade() -> None:
    # daemon_heartbeat stays: the daemon's migration owns it.
    op.drop_table("deleted_posts")
    op.drop_table("operator_pauses")
