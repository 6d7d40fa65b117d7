"""Passwords and sign-in: the rules shared by the login page, the admin pages and the CLI."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, insert, select, update
from wenti.app import App
from wenti.errors import ValidationFailed
from wenti.i18n import N_

from wenti_web import passwords, sessions, throttle
from wenti_web.config import WebConfig
from wenti_web.sessions import Session
from wenti_web.tables import credentials

log = logging.getLogger(__name__)


class LoginFailed(Exception):
    """Wrong username or password; deliberately does not say which."""


class LoginThrottled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def set_password(app: App, tenant_id: str, username: str, password: str, *, end_sessions: bool = True) -> None:
    """Check the policy, store the Argon2id hash and end the user's sessions.

    Raises `ValidationFailed` when the password breaks the policy or the user does
    not exist in the tenant.
    """
    problem = passwords.policy_problem(password, username)
    if problem is not None:
        raise ValidationFailed(problem)
    password_hash = passwords.hash_password(password)
    now = app.clock.now()
    with app.uow(tenant_id) as uow:
        if uow.users.get(username) is None:
            raise ValidationFailed(N_("User {user} does not exist in this tenant."), user=username)
        conn = uow.sql_connection()
        condition = and_(credentials.c.tenant_id == tenant_id, credentials.c.username == username)
        exists = conn.execute(select(credentials.c.username).where(condition)).first() is not None
        values = {"password_hash": password_hash, "changed_at": now}
        if exists:
            conn.execute(update(credentials).where(condition).values(**values))
        else:
            conn.execute(insert(credentials).values(tenant_id=tenant_id, username=username, **values))
        if end_sessions:
            sessions.revoke_all(conn, tenant_id, username, now)
        uow.commit()
    log.info("password set: tenant=%s user=%s", tenant_id, username)


def has_password(app: App, tenant_id: str, username: str) -> bool:
    with app.uow(tenant_id) as uow:
        row = uow.sql_connection().execute(
            select(credentials.c.username).where(and_(credentials.c.tenant_id == tenant_id, credentials.c.username == username))
        ).first()
    return row is not None


def log_in(app: App, config: WebConfig, tenant_id: str, username: str, password: str, ip: str, user_agent: str) -> tuple[str, Session]:
    """Verify a password and open a new session; return (session token, session).

    Raises `LoginThrottled` while the account or the IP must wait, and `LoginFailed`
    for a wrong username or password or a deactivated user.
    """
    now = app.clock.now()
    account = throttle.account_subject(tenant_id, username)
    max_delay = timedelta(seconds=config.login_max_delay_seconds)

    with app.uow(tenant_id) as uow:
        conn = uow.sql_connection()
        wait = max(throttle.blocked_for(conn, "account", account, now), throttle.blocked_for(conn, "ip", ip, now))
    if wait > 0:
        log.warning("login throttled: tenant=%s account=%s ip=%s wait=%ss", tenant_id, username, ip, wait)
        raise LoginThrottled(wait)

    with app.uow(tenant_id) as uow:
        conn = uow.sql_connection()
        user = uow.users.get(username)
        row = conn.execute(
            select(credentials.c.password_hash).where(
                and_(credentials.c.tenant_id == tenant_id, credentials.c.username == username)
            )
        ).first()
        stored_hash = row.password_hash if row is not None else None
        valid = passwords.verify_password(stored_hash, password) and user is not None and user.active
        if not valid:
            throttle.record_failure(conn, "account", account, now, config.login_free_attempts, max_delay)
            throttle.record_failure(conn, "ip", ip, now, config.login_free_attempts, max_delay)
            uow.commit()
            log.warning("login failed: tenant=%s account=%s ip=%s", tenant_id, username, ip)
            raise LoginFailed()

        throttle.clear(conn, "account", account)
        if stored_hash is not None and passwords.needs_rehash(stored_hash):
            conn.execute(
                update(credentials)
                .where(and_(credentials.c.tenant_id == tenant_id, credentials.c.username == username))
                .values(password_hash=passwords.hash_password(password), changed_at=now)
            )
        token, session = sessions.create(conn, tenant_id, username, now, ip, user_agent)
        uow.commit()
    log.info("login: tenant=%s user=%s ip=%s", tenant_id, username, ip)
    return token, session


def log_out(app: App, session: Session) -> None:
    with app.uow(session.tenant_id) as uow:
        sessions.revoke(uow.sql_connection(), session.tenant_id, session.id_hash, app.clock.now())
        uow.commit()
    log.info("logout: tenant=%s user=%s", session.tenant_id, session.username)


def end_sessions(app: App, tenant_id: str, username: str) -> int:
    """End every session of a user, e.g. when an admin deactivates them."""
    with app.uow(tenant_id) as uow:
        ended = sessions.revoke_all(uow.sql_connection(), tenant_id, username, app.clock.now())
        uow.commit()
    log.info("sessions ended: tenant=%s user=%s count=%s", tenant_id, username, ended)
    return ended
