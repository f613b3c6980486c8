"""x_credentials, x_cursors, x_rate_limits, x_post_attempts: the X channel's own state

Tokens (X rotates the refresh token at each refresh), the brand's user id, ingestion
cursors per endpoint, the last rate-limit headers per endpoint, and one row per POST
attempt for the configured sending budgets.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.history.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_TIME = engine.history.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "x_credentials",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("access_expires_at", UTC_TIME, nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("username", sa.String(length=15), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_x_credentials")),
    )
    op.create_table(
        "x_cursors",
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("since_id", sa.String(length=32), nullable=True),
        sa.Column("last_success_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("endpoint", name=op.f("pk_x_cursors")),
    )
    op.create_table(
        "x_rate_limits",
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("reset_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("endpoint", name=op.f("pk_x_rate_limits")),
    )
    op.create_table(
        "x_post_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", UTC_TIME, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_x_post_attempts_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_x_post_attempts")),
    )
    with op.batch_alter_table("x_post_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_x_post_attempts_at", ["attempted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("x_post_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_x_post_attempts_at")
    op.drop_table("x_post_attempts")
    op.drop_table("x_rate_limits")
    op.drop_table("x_cursors")
    op.drop_table("x_credentials")
