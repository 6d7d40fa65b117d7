"""Create the notes table of the sample plugin used by the migration tests.

Revision ID: 0001_sample
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_sample"
down_revision = None
branch_labels = ("sample",)
# Notes belong to issues, so the core branch is migrated first. A plugin's metadata
# cannot name core tables, so the link is a plain indexed column, not a foreign key.
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "sample_notes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("issue_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        mariadb_charset="utf8mb4",
        mariadb_collate="utf8mb4_bin",
    )
    op.create_index("ix_sample_notes_tenant_id_issue_id", "sample_notes", ["tenant_id", "issue_id"])


def downgrade() -> None:
    op.drop_table("sample_notes")
