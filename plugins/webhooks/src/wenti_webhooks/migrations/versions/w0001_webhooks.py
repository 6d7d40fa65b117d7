"""Create the webhook delivery log and endpoint states.

Revision ID: w0001_webhooks
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wenti_webhooks.schema import UtcDateTime

revision = "w0001_webhooks"
down_revision = None
branch_labels = ("webhooks",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("attempted_at", UtcDateTime, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("manual", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_webhook_attempt_endpoint", "webhook_attempt", ["tenant_id", "endpoint", "id"])
    op.create_index("ix_webhook_attempt_message", "webhook_attempt", ["tenant_id", "message_id"])
    op.create_table(
        "webhook_endpoint_state",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("endpoint", sa.String(100), primary_key=True),
        sa.Column("disabled_at", UtcDateTime, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("webhook_endpoint_state")
    op.drop_index("ix_webhook_attempt_message", table_name="webhook_attempt")
    op.drop_index("ix_webhook_attempt_endpoint", table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
