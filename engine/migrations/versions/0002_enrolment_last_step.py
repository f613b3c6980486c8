"""enrolments.last_step: the name of the last resolved step

Progress kept as an index alone moves when a rule edit removes or reorders steps; the
name lets an enrolment resume after the very step it resolved. Existing rows keep NULL
and resume by index, as before.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot alter tables in place (a plain ADD COLUMN here, but
    # batch keeps upgrade and downgrade the same shape on every backend).
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_step", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_column("last_step")
