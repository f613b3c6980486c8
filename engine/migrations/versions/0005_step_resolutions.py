"""step_resolutions: when each step of each enrolment resolved, held-out ones included

Measurement compares treatment and control on the same clock: a held-out enrolment's
response window starts when its step would have been sent. Enrolments keep only their
last resolution and decisions are pruned, so every resolution gets a row here. Existing
planned contacts are copied in as treatment resolutions (their planned_at is the step's
resolution time), so a database from before this migration still reports its treatment.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.history.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "step_resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("cadence", sa.String(length=100), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("arm", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", engine.history.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_step_resolutions_enrolment_id_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_step_resolutions_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_resolutions")),
        sa.UniqueConstraint(
            "enrolment_id", "step", name=op.f("uq_step_resolutions_enrolment_id_step")
        ),
    )
    with op.batch_alter_table("step_resolutions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_step_resolutions_cadence_time", ["cadence", "resolved_at"], unique=False
        )
    op.execute(
        "INSERT INTO step_resolutions"
        " (enrolment_id, customer_id, cadence, step, arm, outcome, resolved_at)"
        " SELECT enrolment_id, customer_id, cadence, step, 'treatment', 'planned', MIN(planned_at)"
        " FROM contacts WHERE enrolment_id IS NOT NULL"
        " GROUP BY enrolment_id, customer_id, cadence, step"
    )


def downgrade() -> None:
    with op.batch_alter_table("step_resolutions", schema=None) as batch_op:
        batch_op.drop_index("ix_step_resolutions_cadence_time")
    op.drop_table("step_resolutions")
