"""Admin operations on webhooks: reading an endpoint's delivery log, redelivery, enabling and disabling.

The CLI and the web admin pages call these functions; each takes the acting
`wenti.app.Context` and needs the admin role.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select

from wenti.domain import Role
from wenti.errors import NotFound, PermissionDenied, ValidationFailed
from wenti.i18n import Domain, N_

from wenti_webhooks.channel import channel, config_of, disabled_endpoints, raise_for_result, record_attempt, set_disabled
from wenti_webhooks.schema import attempts

log = logging.getLogger(__name__)

domain = Domain("wenti_webhooks", Path(__file__).parent / "locale")
_ = domain.gettext


def _require_admin(ctx: Any) -> None:
    role = ctx.user.role if isinstance(ctx.user.role, Role) else Role(ctx.user.role)
    if not role.includes(Role.ADMIN):
        raise PermissionDenied(N_("Only admins can manage webhooks; {user} is a {role}."), user=ctx.username, role=role.value)


def _endpoint(app: Any, ctx: Any, name: str) -> Any:
    endpoint = config_of(app).endpoint(name)
    if endpoint is None or endpoint.tenant != ctx.tenant_id:
        raise NotFound(
            N_("Webhook endpoint {name} is not configured; add it under [plugins.webhooks] endpoints."), name=name
        )
    return endpoint


def endpoint_status(app: Any, ctx: Any) -> list[dict[str, Any]]:
    """List the tenant's endpoints with their URL, subscriptions and whether each is disabled."""
    _require_admin(ctx)
    disabled = disabled_endpoints(app, ctx.tenant_id)
    return [
        {"name": e.name, "url": e.url, "events": list(e.events), "disabled": e.name in disabled}
        for e in config_of(app).endpoints
        if e.tenant == ctx.tenant_id
    ]


def delivery_log(
    app: Any, ctx: Any, endpoint: str | None = None, limit: int = 100, succeeded: bool | None = None
) -> list[dict[str, Any]]:
    """Attempts, newest first, of one endpoint or of all; bodies are left out.

    `succeeded` keeps only the successful (True) or the failed (False) attempts.
    """
    _require_admin(ctx)
    channel.flush(app)
    query = select(attempts).where(attempts.c.tenant_id == ctx.tenant_id)
    if endpoint is not None:
        query = query.where(attempts.c.endpoint == endpoint)
    if succeeded is not None:
        query = query.where(attempts.c.succeeded == succeeded)
    query = query.order_by(attempts.c.id.desc()).limit(limit)
    with app.uow(ctx.tenant_id) as uow:
        rows = list(uow.sql_connection().execute(query))
    return [
        {
            "id": row.id,
            "endpoint": row.endpoint,
            "message_id": row.message_id,
            "event_type": row.event_type,
            "attempted_at": row.attempted_at.isoformat(),
            "status_code": row.status_code,
            "error": row.error,
            "duration_ms": row.duration_ms,
            "succeeded": bool(row.succeeded),
            "manual": bool(row.manual),
        }
        for row in rows
    ]


def redeliver(app: Any, ctx: Any, attempt_id: int) -> dict[str, Any]:
    """Send the body of a logged attempt again now, with the same `webhook-id` and a new signature.

    Raises `NotFound` for an unknown attempt, `ValidationFailed` when its endpoint
    is disabled, and returns the new attempt as `delivery_log` shows it.
    """
    _require_admin(ctx)
    with app.uow(ctx.tenant_id) as uow:
        row = uow.sql_connection().execute(
            select(attempts).where(attempts.c.tenant_id == ctx.tenant_id, attempts.c.id == attempt_id)
        ).first()
    if row is None:
        raise NotFound(N_("Webhook attempt {id} does not exist."), id=attempt_id)
    endpoint = _endpoint(app, ctx, row.endpoint)
    if endpoint.name in disabled_endpoints(app, ctx.tenant_id):
        raise ValidationFailed(
            N_("Webhook endpoint {name} is disabled. Enable it first with `wenti webhooks enable {name}`."),
            name=endpoint.name,
        )

    body = row.body.encode("utf-8")
    result = channel.post(endpoint, row.message_id, body, config_of(app).timeout_seconds, app.clock.now())
    record_attempt(app, ctx.tenant_id, endpoint.name, row.message_id, row.event_type, body, result, manual=True)
    log.info(
        "manual webhook redelivery tenant=%s endpoint=%s message=%s by=%s status=%s",
        ctx.tenant_id, endpoint.name, row.message_id, ctx.username, result.status_code,
    )
    try:
        raise_for_result(app, ctx.tenant_id, endpoint, result)
    except Exception as error:  # noqa: BLE001 - reported to the admin, not retried
        log.warning("manual webhook redelivery failed endpoint=%s error=%s", endpoint.name, error)
    return delivery_log(app, ctx, endpoint.name, limit=1)[0]


def enable(app: Any, ctx: Any, name: str) -> None:
    _require_admin(ctx)
    _endpoint(app, ctx, name)
    set_disabled(app, ctx.tenant_id, name, None)
    log.info("webhook endpoint enabled tenant=%s endpoint=%s by=%s", ctx.tenant_id, name, ctx.username)


def disable(app: Any, ctx: Any, name: str) -> None:
    _require_admin(ctx)
    _endpoint(app, ctx, name)
    set_disabled(app, ctx.tenant_id, name, f"disabled by {ctx.username}")
    log.info("webhook endpoint disabled tenant=%s endpoint=%s by=%s", ctx.tenant_id, name, ctx.username)
