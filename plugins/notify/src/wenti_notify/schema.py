"""Tables the notify plugin owns, created by the Alembic branch `notify`.

`notify_delivery` is the per-channel delivery queue. One row is one message for one
recipient on one channel; `(tenant_id, event_id, channel, recipient)` is unique, so
routing the same event twice (the core outbox may redeliver it) queues nothing new.
`message_id` is derived from that key, so it stays the same across retries and
crashes and receivers can deduplicate on it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


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
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


metadata = MetaData()

deliveries = Table(
    "notify_delivery",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("issue_id", Integer, nullable=True),
    Column("channel", String(64), nullable=False),
    Column("recipient", String(255), nullable=False),
    Column("payload", Text, nullable=False),
    # pending -> sending -> delivered | pending (retry) | dead
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    UniqueConstraint("tenant_id", "event_id", "channel", "recipient", name="uq_notify_delivery_key"),
    Index("ix_notify_delivery_due", "status", "next_attempt_at"),
    Index("ix_notify_delivery_channel", "tenant_id", "channel", "recipient"),
)

watchers = Table(
    "notify_watcher",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("issue_id", Integer, primary_key=True),
    Column("username", String(150), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

preferences = Table(
    "notify_preference",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("username", String(150), primary_key=True),
    # JSON list of channel names, in order of preference; empty means the config default.
    Column("channels", Text, nullable=False, default="[]"),
    # JSON list of event kinds (see `wenti_notify.routing.EVENT_KINDS`) the user muted.
    Column("muted", Text, nullable=False, default="[]"),
    Column("opted_out", Boolean, nullable=False, default=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
