"""Mail sources: an IMAP mailbox, an mbox file or a Maildir folder.

IMAP polling reads messages with UIDs above the last one taken in (per mailbox and
`UIDVALIDITY`), with `BODY.PEEK[]` so the server's unread flags are left to
people, and moves quarantined messages to `quarantine_folder`. The UID is stored
after each message, so a crash re-reads at most the message in hand, which the
`Message-ID` log then skips.
"""

from __future__ import annotations

import logging
import mailbox
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import select

from wenti.config import Secret

from wenti_intake_email.config import ImapSettings
from wenti_intake_email.schema import mailbox_states
from wenti_intake_email.service import QUARANTINED, IntakeService

log = logging.getLogger(__name__)


def read_folder(path: str | Path) -> Iterator[tuple[bytes, str]]:
    """Messages of a Maildir folder (with `cur`/`new`) or an mbox file, as (bytes, source label)."""
    folder = Path(path)
    if folder.is_dir():
        if not (folder / "cur").is_dir() and not (folder / "new").is_dir():
            raise ValueError(f"{folder} is a folder but not a Maildir (no cur/ or new/ inside)")
        box: Any = mailbox.Maildir(str(folder), factory=None, create=False)
        label = "maildir"
    elif folder.is_file():
        box = mailbox.mbox(str(folder), create=False)
        label = "mbox"
    else:
        raise ValueError(f"{folder} does not exist; give the path of an mbox file or a Maildir folder")
    try:
        for key in sorted(box.keys()):
            yield box.get_bytes(key), f"{label}:{folder.name}/{key}"
    finally:
        box.close()


def import_folder(service: IntakeService, path: str | Path, archive: bool = True) -> dict[str, int]:
    """Take in every message of an mbox file or Maildir folder.

    By default the folder is treated as an archive: new messages are imported in
    bulk, keep their dates and send no notifications. `archive=False` takes each
    message in as if it had just arrived.
    """
    counts = service.take_many(read_folder(path), archive=archive)
    log.info("mail folder imported path=%s %s", path, counts)
    return counts


def _connect(settings: ImapSettings) -> IMAPClient:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    client = IMAPClient(
        settings.host,
        port=settings.port,
        ssl=settings.security == "tls",
        ssl_context=context if settings.security == "tls" else None,
        timeout=settings.timeout_seconds,
    )
    if settings.security == "starttls":
        client.starttls(context)
    password = settings.password.reveal() if isinstance(settings.password, Secret) else str(settings.password)
    client.login(settings.username, password)
    return client


def poll_imap(service: IntakeService, settings: ImapSettings | None = None) -> dict[str, int]:
    """Take in the mailbox's new messages; returns how many ended in each action."""
    settings = settings or service.config.imap
    if settings is None:
        raise ValueError("no [plugins.intake-email.imap] table is configured")
    counts = {"created": 0, "commented": 0, "ignored": 0, "duplicate": 0, "quarantined": 0}
    mailbox_key = f"{settings.username}@{settings.host}:{settings.port}/{settings.folder}"
    client = _connect(settings)
    try:
        info = client.select_folder(settings.folder)
        uidvalidity = int(info[b"UIDVALIDITY"])
        last_uid = _last_uid(service, mailbox_key, uidvalidity)
        uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
        for start in range(0, len(uids), settings.batch_size):
            batch = uids[start : start + settings.batch_size]
            fetched = client.fetch(batch, [b"BODY.PEEK[]"])
            for uid in batch:
                raw = fetched.get(uid, {}).get(b"BODY[]")
                if raw is None:
                    continue
                outcome = service.take(raw, f"imap:{mailbox_key}#{uid}")
                counts[outcome.action] += 1
                if outcome.action == QUARANTINED and settings.quarantine_folder:
                    _move(client, uid, settings.quarantine_folder)
                _store_uid(service, mailbox_key, uidvalidity, uid)
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the poll's result stands even if logout fails
            log.warning("IMAP logout failed mailbox=%s", mailbox_key)
    log.info("IMAP mailbox polled mailbox=%s %s", mailbox_key, counts)
    return counts


def _move(client: IMAPClient, uid: int, folder: str) -> None:
    if not client.folder_exists(folder):
        client.create_folder(folder)
    if client.has_capability("MOVE"):
        client.move([uid], folder)
    else:
        client.copy([uid], folder)
        client.delete_messages([uid])
        client.expunge()


def _last_uid(service: IntakeService, mailbox_key: str, uidvalidity: int) -> int:
    with service.app.uow(service.tenant_id) as uow:
        row = uow.sql_connection().execute(
            select(mailbox_states).where(
                mailbox_states.c.tenant_id == service.tenant_id, mailbox_states.c.mailbox == mailbox_key
            )
        ).first()
    if row is None or row.uidvalidity != uidvalidity:
        # A new UIDVALIDITY means the server renumbered the mailbox; start over and
        # let the Message-ID log skip what was taken in before.
        return 0
    return int(row.last_uid)


def _store_uid(service: IntakeService, mailbox_key: str, uidvalidity: int, uid: int) -> None:
    key = (mailbox_states.c.tenant_id == service.tenant_id, mailbox_states.c.mailbox == mailbox_key)
    with service.app.uow(service.tenant_id) as uow:
        conn = uow.sql_connection()
        if conn.execute(select(mailbox_states.c.last_uid).where(*key)).first() is None:
            conn.execute(
                mailbox_states.insert().values(
                    tenant_id=service.tenant_id, mailbox=mailbox_key, uidvalidity=uidvalidity, last_uid=uid
                )
            )
        else:
            conn.execute(mailbox_states.update().where(*key).values(uidvalidity=uidvalidity, last_uid=uid))
        uow.commit()
