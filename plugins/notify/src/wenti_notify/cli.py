"""`wenti notify ...`: the delivery log, retrying dead letters and running one dispatch round."""

from __future__ import annotations

import json
import re
from typing import Any

import click

from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.state import get_state
from wenti.errors import WentiError
from wenti.i18n import N_

from wenti_notify import queue
from wenti_notify.config import EVENT_KINDS
from wenti_notify.service import service_for
from wenti_notify.templates import _


def _state() -> Any:
    """Return the `wenti` command's state, with the app and the acting context."""
    state = get_state()
    if state is None:
        raise click.UsageError(_("Run this command as `wenti notify ...` so that the configuration is loaded."))
    return state


def _fail(error: WentiError) -> click.ClickException:
    # CliError translates from every catalog (core's too) and keeps the exit code of the error type.
    return CliError.from_error(error)


_ISSUE_REF = re.compile(r"^(?:([A-Za-z][A-Za-z0-9_]*)-)?(\d+)$")


def _issue(state: Any, reference: str) -> Any:
    """Read the issue `IT-42` or `42` names; a key whose queue prefix does not match is rejected."""
    match = _ISSUE_REF.match(reference.strip())
    if match is None:
        raise CliError(_("{value!r} is not an issue key or number; write it as IT-42 or 42.").format(value=reference), 2)
    issue_id = int(match.group(2))
    # A missing issue raises NotFound, which the group prints with exit code 3.
    issue = state.app().issues.get(state.context(), issue_id)
    if match.group(1) is not None and issue.queue.lower() != match.group(1).lower():
        raise CliError(_("Issue {ref} does not exist; issue {number} is {key}.").format(ref=reference, number=issue_id, key=issue.key), 3)
    return issue


@click.group(
    name="notify",
    cls=Group,
    invoke_without_command=True,
    help=N_("Notification deliveries: list them, retry dead letters, send due ones now."),
)
@click.pass_context
def notify_group(ctx: click.Context) -> None:
    # Without a subcommand, show the help as `wenti notify --help` does, not a usage error.
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@notify_group.command(name="deliveries", cls=Command, help=N_("List notification deliveries, newest first."))
@option("--status", type=click.Choice(queue.STATUSES), default=None, help=N_("Show only deliveries in this status."))
@option("--channel", default=None, help=N_("Show only this channel (email, wecom, dingtalk, feishu, webhook)."))
@option("--recipient", default=None, help=N_("Show only this recipient (user, robot or endpoint name)."))
@option("--limit", type=click.IntRange(1, 10000), default=50, help=N_("Maximum rows to show (default: 50)."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON instead of a table."))
def deliveries_command(status: str | None, channel: str | None, recipient: str | None, limit: int, as_json: bool) -> None:
    state = _state()
    try:
        rows = service_for(state.app()).list_deliveries(
            state.context(), status=status, channel=channel, recipient=recipient, limit=limit
        )
    except WentiError as error:
        raise _fail(error) from error
    if as_json:
        click.echo(json.dumps([row.to_dict() for row in rows], ensure_ascii=False, indent=2))
        return
    headers = (_("ID"), _("Status"), _("Channel"), _("Recipient"), _("Attempts"), _("Subject"), _("Last error"))
    click.echo("\t".join(headers))
    for row in rows:
        click.echo(
            "\t".join(
                (
                    str(row.id),
                    _(row.status),
                    row.channel,
                    row.recipient,
                    str(row.attempts),
                    str(row.message.get("subject", ""))[:60],
                    (row.last_error or "")[:80],
                )
            )
        )


@notify_group.command(name="retry", cls=Command, help=N_("Send a dead or waiting delivery again now."))
@click.argument("delivery_id", type=int)
def retry_command(delivery_id: int) -> None:
    state = _state()
    try:
        queued = service_for(state.app()).retry(state.context(), delivery_id)
    except WentiError as error:
        raise _fail(error) from error
    if not queued:
        raise CliError(
            _("Delivery {id} was not found or is not dead or waiting; only those can be retried.").format(id=delivery_id)
        )
    click.echo(_("Delivery {id} is queued and will be sent in the next dispatch round.").format(id=delivery_id))


@notify_group.command(name="preferences", cls=Command, help=N_("Show or change who gets which notifications by which channel."))
@option("--user", "username", default=None, help=N_("Change another user's preferences (admins and queue managers)."))
@option("--channel", "channels", multiple=True, help=N_("Personal channel to use, in order; repeat the option for several."))
@option("--mute", "muted", multiple=True, type=click.Choice(EVENT_KINDS), help=N_("Event kind to receive nothing for; repeatable."))
@option("--opt-out/--opt-in", "opted_out", default=None, help=N_("Turn all notifications off or back on."))
def preferences_command(username: str | None, channels: tuple[str, ...], muted: tuple[str, ...], opted_out: bool | None) -> None:
    state = _state()
    service = service_for(state.app())
    ctx = state.context()
    try:
        current = service.preference(ctx, username)
        if channels or muted or opted_out is not None:
            service.set_preference(
                ctx,
                channels=list(channels) or list(current.channels),
                muted=list(muted) or list(current.muted),
                opted_out=current.opted_out if opted_out is None else opted_out,
                username=username,
            )
            current = service.preference(ctx, username)
    except WentiError as error:
        raise _fail(error) from error
    none = _("(default)")
    click.echo(_("Channels: {channels}").format(channels=", ".join(current.channels) or none))
    click.echo(_("Muted: {muted}").format(muted=", ".join(current.muted) or "-"))
    click.echo(_("Notifications off: {value}").format(value=_("yes") if current.opted_out else _("no")))


@notify_group.command(name="watch", cls=Command, help=N_("Get notified about an issue's public changes (or stop, with --stop)."))
@click.argument("issue", metavar="ISSUE")
@option("--stop", is_flag=True, help=N_("Stop watching the issue."))
def watch_command(issue: str, stop: bool) -> None:
    state = _state()
    service = service_for(state.app())
    found = _issue(state, issue)
    try:
        if stop:
            service.unwatch(state.context(), found.id)
        else:
            service.watch(state.context(), found.id)
    except WentiError as error:
        raise _fail(error) from error
    message = _("You no longer watch issue {id}.") if stop else _("You now watch issue {id}.")
    click.echo(message.format(id=found.key))


@notify_group.command(name="dispatch", cls=Command, help=N_("Send every due delivery now, then exit."))
@option("--until-idle", is_flag=True, help=N_("Repeat rounds until nothing is due."))
def dispatch_command(until_idle: bool) -> None:
    state = _state()
    dispatcher = service_for(state.app()).dispatcher()
    result = dispatcher.run_until_idle() if until_idle else dispatcher.run_once()
    click.echo(
        _("Delivered {delivered}, failed {failed}, dead {dead}, postponed {postponed}.").format(
            delivered=result.delivered, failed=result.failed, dead=result.dead, postponed=result.postponed
        )
    )
