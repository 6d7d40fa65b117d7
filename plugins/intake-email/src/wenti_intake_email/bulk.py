"""Importing a mail archive (an mbox file or Maildir folder) in bulk.

New messages of a chunk become issues through one `app.issues.import_batch` call,
one transaction per chunk instead of one per message, and keep the mail's date as
the issue's creation time. Replies, and messages that refer to a message earlier
in the same chunk, then go through the one-message path. Imported issues record
`issue.imported` events, which notify nobody: importing an archive does not send
hundreds of old notifications. Live mail (IMAP polling) uses the one-message path,
so its issues notify as usual.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from wenti.errors import WentiError

from wenti_intake_email.parse import ParsedMail
from wenti_intake_email.service import CREATED, DUPLICATE, IGNORED, QUARANTINED, SOURCE, Outcome

if TYPE_CHECKING:
    from wenti_intake_email.service import IntakeService

log = logging.getLogger(__name__)


@attrs.define
class MailImportRow:
    """One issue for `app.issues.import_batch`, with the fields that call reads.

    NOTE: core documents `import_batch(ctx, rows)` but not the row class, so this
    class repeats the attribute names of `wenti.services.importing.ImportedIssue`.
    """

    title: str
    queue: str | None = None
    description: str = ""
    priority: Any = "normal"
    category: str | None = None
    tags: list[str] = attrs.Factory(list)
    custom_fields: dict[str, Any] = attrs.Factory(dict)
    status: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    source: str = SOURCE
    external_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


def take_chunk_bulk(service: IntakeService, items: list[tuple[bytes, str]]) -> list[Outcome]:
    """Take one chunk of archived mail in; returns one outcome per message, in order."""
    parsed = [(raw, source, service._parse(raw, source)) for raw, source in items]
    seen = service._seen([mail.message_id for _raw, _source, mail in parsed if isinstance(mail, ParsedMail)])
    outcomes: dict[int, Outcome] = {}
    fresh: list[tuple[int, bytes, str, ParsedMail]] = []
    later: list[tuple[int, bytes, str, ParsedMail]] = []
    chunk_ids: set[str] = set()

    for index, (raw, source, mail) in enumerate(parsed):
        if isinstance(mail, Outcome):
            outcomes[index] = mail
            continue
        if mail.message_id in seen:
            outcomes[index] = Outcome(DUPLICATE, mail.message_id)
            continue
        seen.add(mail.message_id)
        if mail.automatic:
            outcomes[index] = Outcome(IGNORED, mail.message_id, reason=mail.automatic)
        elif any(reference in chunk_ids for reference in mail.references) or service._thread_issue(mail) is not None:
            later.append((index, raw, source, mail))
        else:
            fresh.append((index, raw, source, mail))
        chunk_ids.add(mail.message_id)

    outcomes.update(_import_fresh(service, fresh))
    for index, raw, source, mail in later:
        outcomes[index] = service._take_parsed(raw, source, mail)

    log_rows = [
        service._log_row(mail, source, outcomes[index])
        for index, (raw, source, mail) in enumerate(parsed)
        if isinstance(mail, ParsedMail) and outcomes[index].action not in (QUARANTINED, DUPLICATE)
    ]
    service._write_log(log_rows)
    return [outcomes[index] for index in range(len(parsed))]


def _import_fresh(service: IntakeService, fresh: list[tuple[int, bytes, str, ParsedMail]]) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    rows: list[tuple[int, bytes, str, ParsedMail, Any]] = []
    now = service.app.clock.now()
    for index, raw, source, mail in fresh:
        try:
            ctx = service._sender_context(mail)
        except WentiError as error:
            outcomes[index] = service._quarantine(raw, source, mail.message_id, str(error))
            continue
        title = mail.subject or _first_line(mail.text) or "(no subject)"
        created = mail.date if mail.date is not None and mail.date <= now else None
        row = MailImportRow(
            title=title[:200],
            queue=service.config.queue,
            description=mail.text,
            reporter=ctx.username,
            external_id=mail.message_id,
            created_at=created,
        )
        rows.append((index, raw, source, mail, (ctx, row)))
    if not rows:
        return outcomes

    admin = service._context(service.config.service_user)
    result = service.app.issues.import_batch(admin, [item[4][1] for item in rows], service.config.queue)
    for position, error in result.rejected:
        index, raw, source, mail, _pair = rows[position]
        outcomes[index] = service._quarantine(raw, source, mail.message_id, str(error))

    with service.app.uow(service.tenant_id) as uow:
        issue_ids = uow.issues.find_external_ids(SOURCE, [item[3].message_id for item in rows])
    for position in [*result.imported, *result.duplicates]:
        index, raw, source, mail, (ctx, _row) = rows[position]
        issue_id = issue_ids.get(mail.message_id)
        if issue_id is None:
            outcomes[index] = service._quarantine(raw, source, mail.message_id, "the imported issue was not found afterwards")
            continue
        try:
            service._attach(ctx, issue_id, None, mail)
        except Exception as error:  # noqa: BLE001 - the issue stands; the message is kept for the attachments
            log.exception("attachments of imported mail failed message_id=%s", mail.message_id)
            outcomes[index] = service._quarantine(raw, source, mail.message_id, f"attachments not kept: {type(error).__name__}: {error}")
            continue
        outcomes[index] = Outcome(CREATED, mail.message_id, issue_id)
    return outcomes


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""
