"""operator_pauses, deleted_posts: what an operator decides

- operator_pauses: one row per pause (a cadence, or "*" for all sending), so a pause
  survives restarts and the daemon in another process sees it before its next HTTP call;
- deleted_posts: posts X reported deleted (or an operator listed), whose stored text the
  next housekeeping run removes.

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.history.models

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_TIME = engine.history.models.UtcDateTime(timezone=True)


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


def downgrade() -> None:
    op.drop_table("deleted_posts")
    op.drop_table("operator_pauses")
