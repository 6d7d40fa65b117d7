"""Taking mail in: a new message opens an issue, a reply becomes a public comment.

`IntakeService.take(raw, source)` handles one message and never raises for a bad
message: whatever cannot be taken in is stored in the quarantine table with the
reason, so the messages after it go on. Each outcome is logged in
`intake_message` under the message's `Message-ID`; the issue service also
refuses a second issue or comment with the same `(source="email", external_id)`,
so a message fetched twice is taken in once even if a crash came in between.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import weakref
from collections.abc import Iterable
from typing import Any

import attrs
from sqlalchemy import select

from wenti.errors import PermissionDenied, WentiError

from wenti_intake_email.config import IntakeConfig
from wenti_intake_email.parse import ParsedMail, UnreadableMail, parse_mail, strip_quoted
from wenti_intake_email.schema import messages, quarantine

log = logging.getLogger(__name__)

SOURCE = "email"
USERNAME_OK = re.compile(r"^[A-Za-z0-9.@+_-]{1,64}$")
ISSUE_KEY = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9_]*)-(\d+)(?![0-9])")

CREATED = "created"
COMMENTED = "commented"
IGNORED = "ignored"
DUPLICATE = "duplicate"
QUARANTINED = "quarantined"

_services: weakref.WeakKeyDictionary[Any, IntakeService] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def service_for(app: Any) -> IntakeService:
    with _lock:
        if app not in _services:
            _services[app] = IntakeService(app)
        return _services[app]


@attrs.frozen
class Outcome:
    """What happened to one message."""

    action: str
    message_id: str | None
    issue_id: int | None = None
    comment_id: int | None = None
    reason: str | None = None


class IntakeService:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.config: IntakeConfig = app.plugin_config("intake-email")
        self._users_by_email: dict[str, str] = {}

    @property
    def tenant_id(self) -> str:
        return self.config.tenant

    # -- one message ---------------------------------------------------------------

    def take(self, raw: bytes, source: str) -> Outcome:
        """Take one message in; see the module docstring for what can happen."""
        try:
            mail = parse_mail(raw, self.config.own_domain)
        except UnreadableMail as error:
            return self._quarantine(raw, source, None, str(error))
        except Exception as error:  # noqa: BLE001 - any parser failure is this message's problem
            log.exception("mail could not be parsed source=%s", source)
            return self._quarantine(raw, source, None, f"the message could not be parsed: {type(error).__name__}: {error}")

        if self._seen(mail.message_id):
            return Outcome(DUPLICATE, mail.message_id)
        if mail.automatic:
            self._log(mail, source, IGNORED, reason=mail.automatic)
            log.info("automatic mail ignored message_id=%s reason=%s", mail.message_id, mail.automatic)
            return Outcome(IGNORED, mail.message_id, reason=mail.automatic)

        try:
            outcome = self._apply(mail)
        except WentiError as error:
            return self._quarantine(raw, source, mail.message_id, str(error))
        except Exception as error:  # noqa: BLE001 - the next messages must still be taken in
            log.exception("mail could not be taken in message_id=%s source=%s", mail.message_id, source)
            return self._quarantine(raw, source, mail.message_id, f"{type(error).__name__}: {error}")
        self._log(mail, source, outcome.action, outcome.issue_id, outcome.comment_id)
        return outcome

    def take_many(self, items: Iterable[tuple[bytes, str]]) -> dict[str, int]:
        """Take several messages in; returns how many ended in each action."""
        counts = {CREATED: 0, COMMENTED: 0, IGNORED: 0, DUPLICATE: 0, QUARANTINED: 0}
        for raw, source in items:
            counts[self.take(raw, source).action] += 1
        return counts

    # -- deciding ------------------------------------------------------------------

    def _apply(self, mail: ParsedMail) -> Outcome:
        ctx = self._sender_context(mail)
        issue_id = self._thread_issue(mail)
        if issue_id is not None:
            return self._comment(ctx, issue_id, mail)

        title = mail.subject or _first_line(mail.text) or "(no subject)"
        issue = self.app.issues.create(
            ctx,
            queue=self.config.queue,
            title=title[:200],
            description=mail.text,
            source=SOURCE,
            external_id=mail.message_id,
        )
        self._attach(ctx, issue.id, None, mail)
        log.info("issue created from mail tenant=%s issue=%s message_id=%s", self.tenant_id, issue.id, mail.message_id)
        return Outcome(CREATED, mail.message_id, issue.id)

    def _comment(self, ctx: Any, issue_id: int, mail: ParsedMail) -> Outcome:
        body = strip_quoted(mail.text) or mail.text or mail.subject or "(empty reply)"
        try:
            comment = self.app.issues.comment(ctx, issue_id, body, visibility="public", source=SOURCE, external_id=mail.message_id)
        except PermissionDenied:
            # The sender may not comment on this issue (not its reporter); keep the
            # mail as a comment by the service user that names the sender.
            ctx = self.app.context(self.tenant_id, self.config.service_user)
            header = f"{mail.sender_name} <{mail.sender}>".strip()
            comment = self.app.issues.comment(ctx, issue_id, f"{header}:\n{body}", visibility="public", source=SOURCE, external_id=mail.message_id)
        self._attach(ctx, issue_id, comment.id, mail)
        log.info("comment added from mail tenant=%s issue=%s message_id=%s", self.tenant_id, issue_id, mail.message_id)
        return Outcome(COMMENTED, mail.message_id, issue_id, comment.id)

    def _thread_issue(self, mail: ParsedMail) -> int | None:
        """The issue a reply belongs to: by thread headers first, then by the key in an address or the subject."""
        root = re.compile(rf"<issue\.{re.escape(self.tenant_id)}\.(\d+)@{re.escape(self.config.own_domain)}>")
        with self.app.uow(self.tenant_id) as uow:
            for reference in reversed(mail.references):
                match = root.fullmatch(reference)
                if match and uow.issues.get(int(match.group(1))) is not None:
                    return int(match.group(1))
                issue = uow.issues.find_by_external_id(SOURCE, reference)
                if issue is not None:
                    return issue.id
                comment = uow.comments.find_by_external_id(SOURCE, reference)
                if comment is not None:
                    return comment.issue_id
            for text in [*mail.recipients, mail.subject]:
                for queue_key, number in ISSUE_KEY.findall(text):
                    issue = uow.issues.get(int(number))
                    if issue is not None and issue.queue.lower() == queue_key.lower():
                        return issue.id
        return None

    # -- people ----------------------------------------------------------------

    def _sender_context(self, mail: ParsedMail) -> Any:
        username = self._user_for(mail.sender)
        if username is None and self.config.create_reporters:
            username = self._create_reporter(mail)
        return self.app.context(self.tenant_id, username or self.config.service_user)

    def _user_for(self, address: str) -> str | None:
        if address in self._users_by_email:
            return self._users_by_email[address]
        with self.app.uow(self.tenant_id) as uow:
            users = uow.users.list()
        self._users_by_email = {user.email.lower(): user.username for user in users if user.email and user.active}
        return self._users_by_email.get(address)

    def _create_reporter(self, mail: ParsedMail) -> str:
        admin = self.app.context(self.tenant_id, self.config.service_user)
        username = mail.sender if USERNAME_OK.match(mail.sender) else "mail-" + _short_hash(mail.sender)
        with self.app.uow(self.tenant_id) as uow:
            existing = uow.users.get(username)
        if existing is None:
            self.app.admin.create_user(admin, username, mail.sender_name or mail.sender.split("@")[0], "reporter", email=mail.sender)
            log.info("reporter account created from mail tenant=%s user=%s", self.tenant_id, username)
        self._users_by_email[mail.sender] = username
        return username

    # -- attachments ---------------------------------------------------------------

    def _attach(self, ctx: Any, issue_id: int, comment_id: int | None, mail: ParsedMail) -> None:
        if not mail.attachments:
            return
        store = self._blob_store()
        known = {(item.filename, item.size) for item in self.app.issues.attachments(ctx, issue_id)}
        for attachment in mail.attachments:
            if (attachment.filename, len(attachment.data)) in known:
                continue
            blob_id = store.put(attachment.data, attachment.content_type)
            self.app.issues.attach(
                ctx,
                issue_id,
                blob_id=blob_id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                comment_id=comment_id,
            )

    def _blob_store(self) -> Any:
        name = self.app.config.attachments.store
        for record in self.app.hooks.blob_stores():
            if record.name == name:
                return record.open(self.app)
        raise RuntimeError(
            f"attachments cannot be kept: no blob store named {name!r} is installed; "
            "install the plugin that provides it or change [attachments] store"
        )

    # -- bookkeeping -------------------------------------------------------------

    def _seen(self, message_id: str) -> bool:
        with self.app.uow(self.tenant_id) as uow:
            row = uow.sql_connection().execute(
                select(messages.c.id).where(messages.c.tenant_id == self.tenant_id, messages.c.message_id == message_id)
            ).first()
        return row is not None

    def _log(self, mail: ParsedMail, source: str, action: str, issue_id: int | None = None, comment_id: int | None = None, reason: str | None = None) -> None:
        with self.app.uow(self.tenant_id) as uow:
            conn = uow.sql_connection()
            exists = conn.execute(
                select(messages.c.id).where(messages.c.tenant_id == self.tenant_id, messages.c.message_id == mail.message_id)
            ).first()
            if exists is None:
                conn.execute(
                    messages.insert().values(
                        tenant_id=self.tenant_id,
                        message_id=mail.message_id,
                        source=source[:255],
                        action=action,
                        issue_id=issue_id,
                        comment_id=comment_id,
                        sender=mail.sender[:255],
                        reason=reason,
                        received_at=self.app.clock.now(),
                    )
                )
            uow.commit()

    def _quarantine(self, raw: bytes, source: str, message_id: str | None, reason: str) -> Outcome:
        with self.app.uow(self.tenant_id) as uow:
            uow.sql_connection().execute(
                quarantine.insert().values(
                    tenant_id=self.tenant_id,
                    source=source[:255],
                    message_id=message_id,
                    reason=reason,
                    raw=raw,
                    received_at=self.app.clock.now(),
                )
            )
            uow.commit()
        log.warning("mail quarantined source=%s message_id=%s reason=%s", source, message_id, reason)
        return Outcome(QUARANTINED, message_id, reason=reason)

    def quarantined(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest quarantined messages, without their bytes."""
        with self.app.uow(self.tenant_id) as uow:
            rows = uow.sql_connection().execute(
                select(quarantine.c.id, quarantine.c.source, quarantine.c.message_id, quarantine.c.reason, quarantine.c.received_at)
                .where(quarantine.c.tenant_id == self.tenant_id)
                .order_by(quarantine.c.id.desc())
                .limit(limit)
            )
            return [dict(row._mapping) for row in rows]

    def message_log(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.app.uow(self.tenant_id) as uow:
            rows = uow.sql_connection().execute(
                select(messages).where(messages.c.tenant_id == self.tenant_id).order_by(messages.c.id.desc()).limit(limit)
            )
            return [dict(row._mapping) for row in rows]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
