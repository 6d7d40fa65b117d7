"""Create the delivery queue, watchers and preferences of the notify plugin.

Revision ID: n0001_notify
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wenti_notify.schema import UtcDateTime

revision = "n0001_notify"
down_revision = None
branch_labels = ("notify",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_delivery",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("issue_id", sa.Integer, nullable=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime, nullable=True),
        sa.Column("lease_until", UtcDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("delivered_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("tenant_id", "event_id", "channel", "recipient", name="uq_notify_delivery_key"),
    )
    op.create_index("ix_notify_delivery_due", "notify_delivery", ["status", "next_attempt_at"])
    op.create_index("ix_notify_delivery_channel", "notify_delivery", ["tenant_id", "channel", "recipient"])
    op.create_table(
        "notify_watcher",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("issue_id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(150), primary_key=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "notify_preference",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(150), primary_key=True),
        sa.Column("channels", sa.Text, nullable=False, server_default="[]"),
        sa.Column("muted", sa.Text, nullable=False, server_default="[]"),
        sa.Column("opted_out", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_preference")
    op.drop_table("notify_watcher")
    op.drop_index("ix_notify_delivery_channel", table_name="notify_delivery")
    op.drop_index("ix_notify_delivery_due", table_name="notify_delivery")
    op.drop_table("notify_delivery")
