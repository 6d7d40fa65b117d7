"""`wenti webhooks ...`: endpoints, their delivery log, redelivery and new secrets."""

from __future__ import annotations

import json
from typing import Any

import click

from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.state import get_state
from wenti.errors import WentiError
from wenti.i18n import N_

from wenti_webhooks import admin
from wenti_webhooks.admin import _
from wenti_webhooks.signing import new_secret


def _state() -> Any:
    """Return the `wenti` command's state, with the app and the acting context."""
    state = get_state()
    if state is None:
        raise click.UsageError(_("Run this command as `wenti webhooks ...` so that the configuration is loaded."))
    return state


def _run(call: Any, *args: Any) -> Any:
    state = _state()
    try:
        return call(state.app(), state.context(), *args)
    except WentiError as error:
        raise CliError.from_error(error) from error


@click.group(
    name="webhooks",
    cls=Group,
    invoke_without_command=True,
    help=N_("Outbound webhooks: endpoints, delivery log and redelivery."),
)
@click.pass_context
def webhooks_group(ctx: click.Context) -> None:
    # Without a subcommand, show the help as `wenti webhooks --help` does, not a usage error.
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@webhooks_group.command(name="list", cls=Command, help=N_("List the configured endpoints and whether each is disabled."))
def list_command() -> None:
    for row in _run(admin.endpoint_status):
        state = _("disabled") if row["disabled"] else _("enabled")
        click.echo(f"{row['name']}\t{state}\t{row['url']}\t{','.join(row['events']) or '*'}")


@webhooks_group.command(name="log", cls=Command, help=N_("Show the delivery attempts of one endpoint (or all), newest first."))
@click.argument("endpoint", required=False)
@option("--limit", type=click.IntRange(1, 10000), default=50, help=N_("Maximum rows to show (default: 50)."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON instead of a table."))
def log_command(endpoint: str | None, limit: int, as_json: bool) -> None:
    rows = _run(admin.delivery_log, endpoint, limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        outcome = _("ok") if row["succeeded"] else (row["error"] or "")
        click.echo(f"{row['id']}\t{row['attempted_at']}\t{row['endpoint']}\t{row['message_id']}\t{row['status_code'] or '-'}\t{outcome}")


@webhooks_group.command(name="redeliver", cls=Command, help=N_("Send the body of a logged attempt again now."))
@click.argument("attempt_id", type=int)
def redeliver_command(attempt_id: int) -> None:
    row = _run(admin.redeliver, attempt_id)
    outcome = _("ok") if row["succeeded"] else (row["error"] or "")
    click.echo(_("Attempt {id}: {outcome}").format(id=row["id"], outcome=outcome))


@webhooks_group.command(name="enable", cls=Command, help=N_("Enable an endpoint that was disabled by a 410 response or by an admin."))
@click.argument("endpoint")
def enable_command(endpoint: str) -> None:
    _run(admin.enable, endpoint)
    click.echo(_("Webhook endpoint {name} is enabled.").format(name=endpoint))


@webhooks_group.command(name="disable", cls=Command, help=N_("Stop sending to an endpoint."))
@click.argument("endpoint")
def disable_command(endpoint: str) -> None:
    _run(admin.disable, endpoint)
    click.echo(_("Webhook endpoint {name} is disabled.").format(name=endpoint))


@webhooks_group.command(name="new-secret", cls=Command, help=N_("Print a new random secret (whsec_...) for an endpoint."))
def new_secret_command() -> None:
    click.echo(new_secret())
