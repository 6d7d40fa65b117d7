"""`wenti intake ...`: poll the mailbox, import mail folders, list quarantined mail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from wenti.cli.state import get_state
from wenti.i18n import Domain

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


@click.group(name="intake", help="E-mail intake: poll the mailbox, import mail folders, see quarantined mail.")
def intake_group() -> None:
    pass


@intake_group.command(name="poll", help="Take in the new messages of the configured IMAP mailbox once.")
def poll_command() -> None:
    try:
        counts = poll_imap(service_for(_app()))
    except (ValueError, OSError) as error:
        raise click.ClickException(_("Polling the mailbox failed: {error}").format(error=error)) from error
    click.echo(_summary(counts))


@intake_group.command(name="import", help="Take in every message of an mbox file or a Maildir folder.")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_command(path: Path) -> None:
    try:
        counts = import_folder(service_for(_app()), path)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(_summary(counts))


@intake_group.command(name="quarantine", help="List messages that could not be taken in, newest first.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True, help="Maximum rows to show.")
def quarantine_command(limit: int) -> None:
    rows = service_for(_app()).quarantined(limit)
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
