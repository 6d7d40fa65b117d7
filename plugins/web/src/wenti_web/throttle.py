"""Login throttling per account and per client IP, without permanent lockout.

The first `free_attempts` failures cost nothing. After that, each failure blocks the
account (and separately the IP) for a delay that doubles with every further failure,
capped at `max_delay`. A block always ends by itself; a successful login clears the
account's counter. Counters older than a day start again from zero.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from wenti_web.tables import aware, login_throttle

_FORGET_AFTER = timedelta(days=1)


def account_subject(tenant_id: str, username: str) -> str:
    return f"{tenant_id}/{username.lower()}"[:220]


def blocked_for(conn: Any, scope: str, subject: str, now: datetime) -> int:
    """Seconds until `subject` may try again; 0 when it may try now."""
    row = conn.execute(
        select(login_throttle.c.blocked_until).where(
            and_(login_throttle.c.scope == scope, login_throttle.c.subject == subject)
        )
    ).first()
    if row is None or row.blocked_until is None:
        return 0
    remaining = (aware(row.blocked_until) - now).total_seconds()
    return max(0, int(remaining + 0.999))


def record_failure(conn: Any, scope: str, subject: str, now: datetime, free_attempts: int, max_delay: timedelta) -> None:
    condition = and_(login_throttle.c.scope == scope, login_throttle.c.subject == subject)
    row = conn.execute(select(login_throttle).where(condition)).first()
    failures = 1
    if row is not None and now - aware(row.last_failure_at) < _FORGET_AFTER:
        failures = row.failures + 1

    blocked_until = None
    if failures >= free_attempts:
        delay = timedelta(seconds=2 ** min(failures - free_attempts, 20))
        blocked_until = now + min(delay, max_delay)

    values = {"failures": failures, "last_failure_at": now, "blocked_until": blocked_until}
    if row is None:
        conn.execute(insert(login_throttle).values(scope=scope, subject=subject, **values))
    else:
        conn.execute(update(login_throttle).where(condition).values(**values))


def clear(conn: Any, scope: str, subject: str) -> None:
    conn.execute(delete(login_throttle).where(and_(login_throttle.c.scope == scope, login_throttle.c.subject == subject)))
