"""The delivery log as a web admin page, with a "retry" button on dead letters.

The web plugin shows it through the `register_admin_views` hook and calls these
functions with the signed-in user's `Context`. They go through the same
`NotifyService` methods as `wenti notify deliveries` and `wenti notify retry`,
after checking for the admin role.
"""

from __future__ import annotations

from typing import Any

from wenti.domain import Role
from wenti.errors import NotFound, PermissionDenied, ValidationFailed
from wenti.i18n import N_
from wenti.records import AdminAction, AdminColumn, AdminView

from wenti_notify import queue
from wenti_notify.service import service_for
from wenti_notify.templates import domain

VIEW_NAME = "notify_deliveries"


def _require_admin(ctx: Any) -> None:
    role = ctx.user.role if isinstance(ctx.user.role, Role) else Role(ctx.user.role)
    if not role.includes(Role.ADMIN):
        raise PermissionDenied(
            N_("{user} is a {role}. Only admins can open the notification delivery page."),
            user=ctx.username,
            role=role.value,
        )


def delivery_rows(ctx: Any, app: Any, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Return the tenant's deliveries, newest first, as rows of the admin page."""
    _require_admin(ctx)
    deliveries = service_for(app).list_deliveries(ctx, status=status, limit=limit)
    return [
        {
            "id": delivery.id,
            "event": delivery.event_type,
            "channel": delivery.channel,
            "recipient": delivery.recipient,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at,
            "last_error": delivery.last_error,
        }
        for delivery in deliveries
    ]


def retry_delivery(ctx: Any, app: Any, row_id: str) -> str:
    """Queue one dead delivery again and return the confirmation in the user's language."""
    _require_admin(ctx)
    try:
        delivery_id = int(row_id)
    except ValueError:
        raise ValidationFailed(N_("Delivery id {value!r} is invalid. Use the whole number shown in the ID column."), value=row_id) from None

    if not service_for(app).retry(ctx, delivery_id):
        raise NotFound(
            N_("Delivery {id} was not found or is not dead or waiting; only those can be retried."), id=delivery_id
        )
    return domain.gettext("Delivery {id} is queued and will be sent in the next dispatch round.", ctx.locale).format(
        id=delivery_id
    )


def deliveries_view() -> AdminView:
    return AdminView(
        name=VIEW_NAME,
        title=N_("Notification deliveries"),
        columns=(
            AdminColumn("id", N_("ID")),
            AdminColumn("event", N_("Event")),
            AdminColumn("channel", N_("Channel")),
            AdminColumn("recipient", N_("Recipient")),
            AdminColumn("status", N_("Status")),
            AdminColumn("attempts", N_("Attempts")),
            AdminColumn("next_attempt_at", N_("Next attempt")),
            AdminColumn("last_error", N_("Last error")),
        ),
        rows=delivery_rows,
        actions=(AdminAction(name="retry", label=N_("Retry"), run=retry_delivery, statuses=(queue.DEAD,)),),
        statuses=queue.STATUSES,
        required_role="admin",
        translate=domain.gettext,
    )
