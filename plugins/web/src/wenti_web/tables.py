"""Tables the web plugin owns: passwords, sessions, API tokens, idempotency keys,
login throttling and saved views. Created by the Alembic branch `web`.

Every table except `web_login_throttle` carries `tenant_id`, and every query in this
plugin filters on it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

credentials = Table(
    "web_credentials",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("username", String(150), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "web_sessions",
    metadata,
    # SHA-256 of the session token; the token itself is only in the cookie.
    Column("id_hash", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("username", String(150), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("ip", String(64), nullable=False, server_default=""),
    Column("user_agent", String(255), nullable=False, server_default=""),
    Index("ix_web_sessions_user", "tenant_id", "username"),
)

api_tokens = Table(
    "web_api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("username", String(150), nullable=False),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ix_web_api_tokens_user", "tenant_id", "username"),
)

idempotency_keys = Table(
    "web_idempotency_keys",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("username", String(150), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # NULL while the first request runs; set when its response is stored.
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("status_code", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("response_headers", Text, nullable=True),
)

login_throttle = Table(
    "web_login_throttle",
    metadata,
    # `account` rows are keyed "<tenant>/<username>", `ip` rows by the address.
    Column("scope", String(16), primary_key=True),
    Column("subject", String(220), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    Column("blocked_until", DateTime(timezone=True), nullable=True),
)

saved_views = Table(
    "web_saved_views",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("username", String(150), nullable=False),
    Column("name", String(100), nullable=False),
    Column("query", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_web_saved_views_user", "tenant_id", "username"),
)


def aware(value: datetime | None) -> datetime | None:
    """Attach UTC to a datetime read back from SQLite, which drops the offset."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
