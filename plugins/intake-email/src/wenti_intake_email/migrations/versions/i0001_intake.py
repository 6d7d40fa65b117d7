"""Create the intake message log, quarantine and mailbox state.

Revision ID: i0001_intake_email
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wenti_intake_email.schema import UtcDateTime

revision = "i0001_intake_email"
down_revision = None
branch_labels = ("intake_email",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_message",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("issue_id", sa.Integer, nullable=True),
        sa.Column("comment_id", sa.Integer, nullable=True),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "message_id", name="uq_intake_message"),
    )
    op.create_table(
        "intake_quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "intake_mailbox_state",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("mailbox", sa.String(255), primary_key=True),
        sa.Column("uidvalidity", sa.Integer, nullable=False),
        sa.Column("last_uid", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("intake_mailbox_state")
    op.drop_table("intake_quarantine")
    op.drop_table("intake_message")
