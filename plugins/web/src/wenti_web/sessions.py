"""Server-side sessions: the cookie carries a random token, the table its SHA-256.

A session ends when it is revoked (logout, password change, deactivated user), when
it has been idle for longer than the idle timeout, or when it is older than the
absolute timeout. Login always makes a new session, so a token set before login is
never promoted.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import attrs
from sqlalchemy import and_, insert, select, update

from wenti_web.tables import aware, sessions

# Writing `last_seen_at` on every request would turn each page view into a write.
_TOUCH_INTERVAL = timedelta(minutes=1)


@attrs.frozen
class Session:
    id_hash: str
    tenant_id: str
    username: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def cookie_value(token: str, tenant_id: str) -> str:
    """`<token>.<tenant>`: the tenant tells which unit of work to open for the lookup."""
    return f"{token}.{tenant_id}"


def parse_cookie(value: str | None) -> tuple[str, str] | None:
    """Split a session cookie into (token, tenant id); None when it is malformed."""
    if not value or "." not in value:
        return None
    token, tenant_id = value.split(".", 1)
    if len(token) < 32 or not tenant_id:
        return None
    return token, tenant_id


def create(conn: Any, tenant_id: str, username: str, now: datetime, ip: str = "", user_agent: str = "") -> tuple[str, Session]:
    """Insert a new session and return (token, session)."""
    token = secrets.token_urlsafe(32)
    session = Session(
        id_hash=token_hash(token),
        tenant_id=tenant_id,
        username=username,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
    )
    conn.execute(
        insert(sessions).values(
            id_hash=session.id_hash,
            tenant_id=tenant_id,
            username=username,
            csrf_token=session.csrf_token,
            created_at=now,
            last_seen_at=now,
            ip=ip[:64],
            user_agent=user_agent[:255],
        )
    )
    return token, session


def lookup(conn: Any, tenant_id: str, token: str, now: datetime, idle: timedelta, absolute: timedelta) -> Session | None:
    """Return the live session of `token`, refreshing its idle timer; None if it ended."""
    row = conn.execute(
        select(sessions).where(and_(sessions.c.id_hash == token_hash(token), sessions.c.tenant_id == tenant_id))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    created_at = aware(row.created_at)
    last_seen_at = aware(row.last_seen_at)
    if now - last_seen_at > idle or now - created_at > absolute:
        return None
    if now - last_seen_at > _TOUCH_INTERVAL:
        conn.execute(update(sessions).where(sessions.c.id_hash == row.id_hash).values(last_seen_at=now))
        last_seen_at = now
    return Session(
        id_hash=row.id_hash,
        tenant_id=row.tenant_id,
        username=row.username,
        csrf_token=row.csrf_token,
        created_at=created_at,
        last_seen_at=last_seen_at,
    )


def revoke(conn: Any, tenant_id: str, id_hash: str, now: datetime) -> None:
    conn.execute(
        update(sessions)
        .where(and_(sessions.c.id_hash == id_hash, sessions.c.tenant_id == tenant_id, sessions.c.revoked_at.is_(None)))
        .values(revoked_at=now)
    )


def revoke_all(conn: Any, tenant_id: str, username: str, now: datetime, keep: str | None = None) -> int:
    """End every session of a user (all but `keep`); return how many ended."""
    condition = and_(sessions.c.tenant_id == tenant_id, sessions.c.username == username, sessions.c.revoked_at.is_(None))
    if keep is not None:
        condition = and_(condition, sessions.c.id_hash != keep)
    result = conn.execute(update(sessions).where(condition).values(revoked_at=now))
    return result.rowcount or 0


def list_for_user(conn: Any, tenant_id: str, username: str) -> list[Any]:
    return list(
        conn.execute(
            select(sessions)
            .where(and_(sessions.c.tenant_id == tenant_id, sessions.c.username == username, sessions.c.revoked_at.is_(None)))
            .order_by(sessions.c.last_seen_at.desc())
        )
    )
