"""contacts: what a reviewer did to a message

A reviewed contact keeps the text as generated and the text as approved, who reviewed it
and when, and the URL of the post once a person posted it (docs/review.md). `text` stays
the text that will go out; `generated_text` is filled on the first review action, so rows
nobody reviewed keep NULL there and their `text` is still the generated one.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.history.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("generated_text", "approved_text", "reviewed_by", "reviewed_at", "post_url")


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("generated_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("approved_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "reviewed_at", engine.history.models.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("post_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
