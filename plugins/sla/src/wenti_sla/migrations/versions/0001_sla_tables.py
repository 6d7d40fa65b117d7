"""Create the sla_issues and sla_clocks tables.

Revision ID: 0001_sla
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_sla"
down_revision = None
branch_labels = ("sla",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_issues",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("issue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "issue_id"),
    )
    op.create_index("ix_sla_issues_open", "sla_issues", ["tenant_id", "closed"])
    op.create_table(
        "sla_clocks",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("issue_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("policy", sa.String(length=100), nullable=False),
        sa.Column("calendar", sa.String(length=100), nullable=False),
        sa.Column("target", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("elapsed", sa.Double(), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=True),
        sa.Column("stopped_at", sa.Double(), nullable=True),
        sa.Column("breached_at", sa.Double(), nullable=True),
        sa.Column("next_warning_at", sa.Double(), nullable=True),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.Double(), nullable=False),
        sa.Column("notice_key", sa.Double(), nullable=False),
        sa.Column("warned", sa.JSON(), nullable=False),
        sa.Column("breach_sent", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "issue_id", "metric"),
    )
    op.create_index("ix_sla_clocks_due", "sla_clocks", ["tenant_id", "status", "due_at"])
    op.create_index("ix_sla_clocks_warning", "sla_clocks", ["tenant_id", "next_warning_at"])


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_warning", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_due", table_name="sla_clocks")
    op.drop_table("sla_clocks")
    op.drop_index("ix_sla_issues_open", table_name="sla_issues")
    op.drop_table("sla_issues")
