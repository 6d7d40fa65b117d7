"""Tables of the intake plugin (Alembic branch `intake_email`).

`intake_message` logs every message taken in, keyed by its `Message-ID`, so a
message fetched again is skipped (the issue service also refuses a second issue
or comment with the same e-mail id). `intake_quarantine` keeps the raw bytes and
the reason of every message that could not be taken in. `intake_mailbox_state`
remembers the last IMAP UID read per mailbox.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, Text, TypeDecorator, UniqueConstraint


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

messages = Table(
    "intake_message",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("source", String(255), nullable=False),
    # created | commented | ignored | quarantined
    Column("action", String(16), nullable=False),
    Column("issue_id", Integer, nullable=True),
    Column("comment_id", Integer, nullable=True),
    Column("sender", String(255), nullable=False),
    Column("reason", Text, nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant_id", "message_id", name="uq_intake_message"),
)

quarantine = Table(
    "intake_quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("source", String(255), nullable=False),
    Column("message_id", String(255), nullable=True),
    Column("reason", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

mailbox_states = Table(
    "intake_mailbox_state",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("mailbox", String(255), primary_key=True),
    Column("uidvalidity", Integer, nullable=False),
    Column("last_uid", Integer, nullable=False),
)
