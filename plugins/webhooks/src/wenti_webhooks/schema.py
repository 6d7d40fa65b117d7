"""Tables of the webhooks plugin (Alembic branch `webhooks`).

`webhook_attempt` is the delivery log: one row per HTTP request, with the exact
body sent, so a delivery can be sent again by hand. `webhook_endpoint_state`
records endpoints disabled by a 410 answer or by an admin.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, TypeDecorator


class UtcDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite drops the zone, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; use an aware UTC datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None else None


metadata = MetaData()

attempts = Table(
    "webhook_attempt",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("endpoint", String(100), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("manual", Boolean, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_webhook_attempt_endpoint", "tenant_id", "endpoint", "id"),
    Index("ix_webhook_attempt_message", "tenant_id", "message_id"),
)

endpoint_states = Table(
    "webhook_endpoint_state",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("endpoint", String(100), primary_key=True),
    Column("disabled_at", UtcDateTime, nullable=True),
    Column("reason", Text, nullable=True),
)
