"""`wenti outbox list|retry|deliver`: deliveries to plugins that are pending or dead."""

from __future__ import annotations

import click

from wenti.cli.base import Command, Group, option
from wenti.cli.output import echo_json, echo_table, local_time
from wenti.cli.state import CliState, deliver_pending_events, pass_state
from wenti.domain import DeliveryStatus, Role
from wenti.i18n import N_, _
from wenti.services.permissions import require_role

STATUS_LABELS = {
    DeliveryStatus.PENDING: N_("pending"),
    DeliveryStatus.DELIVERED: N_("delivered"),
    DeliveryStatus.DEAD: N_("dead letter"),
}


def _list_options(function):  # type: ignore[no-untyped-def]
    """The options of `outbox list`, which plain `wenti outbox` accepts as well."""
    function = option("--json", "as_json", is_flag=True, help=N_("Print JSON."))(function)
    function = option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000), help=N_("Maximum number of messages per status."))(function)
    return option("--status", type=click.Choice([s.value for s in DeliveryStatus]), help=N_("Only this status (default: pending and dead)."))(function)


@click.group("outbox", cls=Group, invoke_without_command=True, help=N_("Show and retry deliveries of events to plugins (default: list)."))
@_list_options
@click.pass_context
def outbox_group(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(outbox_list, status=status, limit=limit, as_json=as_json)


@outbox_group.command("list", cls=Command, help=N_("List pending deliveries and dead letters."))
@_list_options
@pass_state
def outbox_list(state: CliState, status: str | None = None, limit: int = 100, as_json: bool = False) -> None:
    app, ctx = state.app(), state.context()
    statuses = [status] if status else [DeliveryStatus.PENDING.value, DeliveryStatus.DEAD.value]
    messages = [message for name in statuses for message in app.outbox.list(ctx, name, limit)]
    if as_json:
        echo_json(messages)
        return
    if not messages:
        click.echo(_("The outbox is empty: nothing pending, no dead letters."))
        return
    headers = [_("ID"), _("Status"), _("Plugin"), _("Event"), _("Attempts"), _("Next attempt"), _("Last error")]
    rows = [
        [
            str(message.id),
            _(STATUS_LABELS[message.status]),
            message.plugin,
            str(message.payload.get("type", message.event_id)),
            str(message.attempts),
            local_time(message.next_attempt_at, ctx.timezone) or "-",
            (message.last_error or "-").splitlines()[0],
        ]
        for message in messages
    ]
    echo_table(headers, rows)


@outbox_group.command("retry", cls=Command, help=N_("Queue a dead letter for delivery again now."))
@click.argument("message_id", metavar="ID", type=int)
@pass_state
def outbox_retry(state: CliState, message_id: int) -> None:
    app, ctx = state.app(), state.context()
    message = app.outbox.retry(ctx, message_id)
    click.echo(_("Outbox message {id} is queued for delivery to {plugin}.").format(id=message.id, plugin=message.plugin))


@outbox_group.command("deliver", cls=Command, help=N_("Deliver the events waiting for plugins now, as a running `wenti serve` does."))
@option(
    "--max-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help=N_("Stop after this many seconds (default: when no delivery is due)."),
)
@pass_state
def outbox_deliver(state: CliState, max_seconds: float | None) -> None:
    app, ctx = state.app(), state.context()
    require_role(ctx, Role.ADMIN, N_("deliver outbox messages"))
    state.deliver_at_exit = False
    delivered = deliver_pending_events(app, max_seconds)
    click.echo(_("Delivered {count} events to plugins.").format(count=delivered))
