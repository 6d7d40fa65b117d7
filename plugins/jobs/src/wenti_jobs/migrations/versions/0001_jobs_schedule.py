"""Create the jobs_schedule table.

Revision ID: 0001_jobs
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_jobs"
down_revision = None
branch_labels = ("jobs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs_schedule",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=True),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("run_at", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_run_at", sa.Double(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jobs_schedule_due", "jobs_schedule", ["status", "run_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_schedule_due", table_name="jobs_schedule")
    op.drop_table("jobs_schedule")
