"""Per-user API tokens: scoped, revocable, optionally expiring.

A token reads `wt_<id>_<secret>.<tenant>`. The table keeps the id in clear, to find
the row and to show it in lists, and only the SHA-256 of the secret. The secret is
shown once, when the token is made. A token never has more rights than its user's role.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import attrs
from sqlalchemy import and_, insert, select, update

from wenti_web.tables import api_tokens, aware

SCOPES = ("read", "write", "admin")
_USE_RECORD_INTERVAL = timedelta(minutes=1)


@attrs.frozen
class ApiToken:
    id: str
    tenant_id: str
    username: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _from_row(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        tenant_id=row.tenant_id,
        username=row.username,
        name=row.name,
        scopes=tuple(row.scopes.split()),
        created_at=aware(row.created_at),
        last_used_at=aware(row.last_used_at),
        expires_at=aware(row.expires_at),
        revoked_at=aware(row.revoked_at),
    )


def parse(value: str) -> tuple[str, str, str] | None:
    """Split a presented token into (id, secret, tenant id); None when malformed."""
    if not value.startswith("wt_") or "." not in value:
        return None
    body, tenant_id = value[3:].split(".", 1)
    if "_" not in body or not tenant_id:
        return None
    token_id, secret = body.split("_", 1)
    if len(token_id) != 16 or len(secret) < 32:
        return None
    return token_id, secret, tenant_id


def create(
    conn: Any,
    tenant_id: str,
    username: str,
    name: str,
    scopes: tuple[str, ...],
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[str, ApiToken]:
    """Insert a token; return (the full token text, shown once, and its record)."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        insert(api_tokens).values(
            id=token_id,
            tenant_id=tenant_id,
            username=username,
            name=name,
            secret_hash=secret_hash(secret),
            scopes=" ".join(scopes),
            created_at=now,
            expires_at=expires_at,
        )
    )
    record = ApiToken(token_id, tenant_id, username, name, tuple(scopes), now, None, expires_at, None)
    return f"wt_{token_id}_{secret}.{tenant_id}", record


def authenticate(conn: Any, tenant_id: str, token_id: str, secret: str, now: datetime) -> ApiToken | None:
    """Return the live token matching id and secret, recording its use; None otherwise."""
    row = conn.execute(
        select(api_tokens).where(and_(api_tokens.c.id == token_id, api_tokens.c.tenant_id == tenant_id))
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, secret_hash(secret)):
        return None
    token = _from_row(row)
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    # Recording every use would turn each API read into a write; a minute's precision is enough.
    if token.last_used_at is None or now - token.last_used_at > _USE_RECORD_INTERVAL:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))
    return token


def list_for_user(conn: Any, tenant_id: str, username: str) -> list[ApiToken]:
    rows = conn.execute(
        select(api_tokens)
        .where(and_(api_tokens.c.tenant_id == tenant_id, api_tokens.c.username == username))
        .order_by(api_tokens.c.created_at.desc())
    )
    return [_from_row(row) for row in rows]


def get(conn: Any, tenant_id: str, token_id: str) -> ApiToken | None:
    row = conn.execute(
        select(api_tokens).where(and_(api_tokens.c.id == token_id, api_tokens.c.tenant_id == tenant_id))
    ).first()
    return None if row is None else _from_row(row)


def revoke(conn: Any, tenant_id: str, token_id: str, now: datetime) -> bool:
    result = conn.execute(
        update(api_tokens)
        .where(and_(api_tokens.c.id == token_id, api_tokens.c.tenant_id == tenant_id, api_tokens.c.revoked_at.is_(None)))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)
