"""The webhook delivery log as a web admin page, with a "redeliver" button per attempt.

The web plugin shows it through the `register_admin_views` hook and calls these
functions with the signed-in user's `Context`. They call the same functions as
`wenti webhooks log` and `wenti webhooks redeliver`, which need the admin role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wenti.errors import ValidationFailed
from wenti.i18n import N_
from wenti.records import AdminAction, AdminColumn, AdminView

from wenti_webhooks import admin

VIEW_NAME = "webhooks_deliveries"
SUCCEEDED = "succeeded"
FAILED = "failed"

# Marked for extraction: the rows' status values, translated by the web page.
_STATUS_LABELS = (N_("succeeded"), N_("failed"))


def attempt_rows(ctx: Any, app: Any, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Return the tenant's delivery attempts, newest first, as rows of the admin page."""
    if status not in (None, SUCCEEDED, FAILED):
        raise ValidationFailed(
            N_("Invalid webhook attempt status {value!r}. Use succeeded or failed."), value=status
        )
    succeeded = None if status is None else status == SUCCEEDED
    attempts = admin.delivery_log(app, ctx, limit=limit, succeeded=succeeded)
    return [
        {
            "id": attempt["id"],
            "attempted_at": datetime.fromisoformat(attempt["attempted_at"]),
            "endpoint": attempt["endpoint"],
            "event": attempt["event_type"],
            "message_id": attempt["message_id"],
            "status": SUCCEEDED if attempt["succeeded"] else FAILED,
            "status_code": attempt["status_code"],
            "error": attempt["error"],
            "manual": attempt["manual"],
        }
        for attempt in attempts
    ]


def redeliver_attempt(ctx: Any, app: Any, row_id: str) -> str:
    """Send the body of one logged attempt again and return the outcome in the user's language."""
    # Checked before the id is parsed, so other roles learn nothing from the error.
    admin._require_admin(ctx)
    try:
        attempt_id = int(row_id)
    except ValueError:
        raise ValidationFailed(
            N_("Webhook attempt id {value!r} is invalid. Use the whole number shown in the ID column."), value=row_id
        ) from None

    attempt = admin.redeliver(app, ctx, attempt_id)
    outcome = admin.domain.gettext("ok", ctx.locale) if attempt["succeeded"] else (attempt["error"] or "")
    return admin.domain.gettext("Attempt {id}: {outcome}", ctx.locale).format(id=attempt["id"], outcome=outcome)


def attempts_view() -> AdminView:
    return AdminView(
        name=VIEW_NAME,
        title=N_("Webhook deliveries"),
        columns=(
            AdminColumn("id", N_("ID")),
            AdminColumn("attempted_at", N_("Time")),
            AdminColumn("endpoint", N_("Endpoint")),
            AdminColumn("event", N_("Event")),
            AdminColumn("message_id", N_("Message id")),
            AdminColumn("status", N_("Status")),
            AdminColumn("status_code", N_("HTTP status")),
            AdminColumn("error", N_("Error")),
            AdminColumn("manual", N_("Manual")),
        ),
        rows=attempt_rows,
        actions=(AdminAction(name="redeliver", label=N_("Redeliver"), run=redeliver_attempt),),
        statuses=(SUCCEEDED, FAILED),
        required_role="admin",
        translate=admin.domain.gettext,
    )
