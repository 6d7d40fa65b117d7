"""wenti intake-email: mail into issues and comments.

Polls an IMAP mailbox (`wenti intake poll`) or imports an mbox file or Maildir
folder (`wenti intake import PATH`). A new message opens an issue in the
configured queue. A reply becomes a public comment when it answers a
notification or a message already taken in, or when it names an issue key. Automatic mail (auto-replies,
bounces, wenti's own notifications) is logged and dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wenti import hookimpl
from wenti.records import CliCommand, PluginConfig, ScheduledJob, SqlSchema

from wenti_intake_email.config import ImapSettings, IntakeConfig
from wenti_intake_email.parse import ParsedMail, UnreadableMail, parse_mail
from wenti_intake_email.schema import metadata
from wenti_intake_email.service import IntakeService, Outcome, service_for
from wenti_intake_email.sources import import_folder, poll_imap, read_folder

__all__ = [
    "ImapSettings",
    "IntakeConfig",
    "IntakeService",
    "Outcome",
    "ParsedMail",
    "UnreadableMail",
    "import_folder",
    "parse_mail",
    "poll_imap",
    "read_folder",
    "service_for",
]


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    return [PluginConfig(name="intake-email", config_class=IntakeConfig)]


@hookimpl
def register_sql_schemas() -> list[SqlSchema]:
    migrations = Path(__file__).parent / "migrations" / "versions"
    return [SqlSchema(name="intake_email", metadata=metadata, migrations=str(migrations), branch="intake_email")]


def _poll_job(app: Any, payload: dict[str, Any]) -> None:
    service = service_for(app)
    if service.config.enabled and service.config.imap is not None:
        poll_imap(service)


@hookimpl
def register_jobs() -> list[ScheduledJob]:
    return [ScheduledJob(name="intake.poll", run=_poll_job, cron="* * * * *")]


@hookimpl
def register_commands() -> list[CliCommand]:
    from wenti_intake_email.cli import intake_group

    return [CliCommand(name="intake", command=intake_group)]
