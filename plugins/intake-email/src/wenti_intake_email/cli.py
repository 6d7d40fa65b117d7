"""`wenti intake ...`: poll the mailbox, import mail folders, list quarantined mail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.state import get_state
from wenti.i18n import N_, Domain

from wenti_intake_email.service import service_for
from wenti_intake_email.sources import import_folder, poll_imap

_ = Domain("wenti_intake_email", Path(__file__).parent / "locale").gettext


def _app() -> Any:
    """Return the app of the `wenti` command."""
    state = get_state()
    if state is None:
        raise click.UsageError(_("Run this command as `wenti intake ...` so that the configuration is loaded."))
    return state.app()


def _summary(counts: dict[str, int]) -> str:
    return _("Created {created}, commented {commented}, ignored {ignored}, duplicates {duplicate}, quarantined {quarantined}.").format(**counts)


@click.group(
    name="intake",
    cls=Group,
    invoke_without_command=True,
    help=N_("E-mail intake: poll the mailbox, import mail folders, see quarantined mail."),
)
@click.pass_context
def intake_group(ctx: click.Context) -> None:
    # Without a subcommand, show the help as `wenti intake --help` does, not a usage error.
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@intake_group.command(name="poll", cls=Command, help=N_("Take in the new messages of the configured IMAP mailbox once."))
def poll_command() -> None:
    service = service_for(_app())
    if service.config.imap is None:
        raise CliError(
            _("No [plugins.intake-email.imap] table is configured; add one with host, username and password to poll a mailbox.")
        )
    try:
        counts = poll_imap(service)
    except (ValueError, OSError) as error:
        raise CliError(_("Polling the mailbox failed: {error}").format(error=error)) from error
    click.echo(_summary(counts))


@intake_group.command(name="import", cls=Command, help=N_("Take in every message of an mbox file or a Maildir folder."))
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_command(path: Path) -> None:
    if path.is_dir() and not (path / "cur").is_dir() and not (path / "new").is_dir():
        raise CliError(
            _("{path} is a folder but not a Maildir (no cur/ or new/ inside); give an mbox file or a Maildir folder.").format(path=path)
        )
    try:
        counts = import_folder(service_for(_app()), path)
    except ValueError as error:
        raise CliError(str(error)) from error
    click.echo(_summary(counts))


@intake_group.command(name="quarantine", cls=Command, help=N_("List messages that could not be taken in, newest first."))
@option("--limit", type=click.IntRange(1, 10000), default=50, help=N_("Maximum rows to show (default: 50)."))
def quarantine_command(limit: int) -> None:
    rows = service_for(_app()).quarantined(limit)
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
