"""Taking mail in: a new message opens an issue, a reply becomes a public comment.

`IntakeService.take(raw, source)` handles one message. A message that cannot be
parsed or taken in raises nothing: it is stored in the quarantine table with the
reason, so the messages after it go on. Database errors still raise. Each outcome is logged in
`intake_message` under the message's `Message-ID`; the issue service also
refuses a second issue or comment with the same `(source="email", external_id)`,
so a message fetched twice is taken in once even if a crash came in between.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any

import attrs
from sqlalchemy import select

from wenti.errors import NotFound, PermissionDenied, WentiError

from wenti_intake_email.config import IntakeConfig
from wenti_intake_email.parse import ParsedMail, UnreadableMail, parse_mail, strip_quoted
from wenti_intake_email.schema import messages, quarantine

log = logging.getLogger(__name__)

SOURCE = "email"
USERNAME_OK = re.compile(r"^[A-Za-z0-9.@+_-]{1,64}$")
ISSUE_KEY = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9_]*)-(\d+)(?![0-9])")

# How long looked-up accounts and contexts are reused.
CACHE_SECONDS = 60.0

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
    """The result of taking in one message."""

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
        self._users_loaded_at = -CACHE_SECONDS
        self._contexts: dict[str, tuple[float, Any]] = {}

    @property
    def tenant_id(self) -> str:
        return self.config.tenant

    # -- one message ---------------------------------------------------------------

    def take(self, raw: bytes, source: str) -> Outcome:
        """Take one message in; see the module docstring for what can happen."""
        return self._take_chunk([(raw, source)])[0]

    def take_many(self, items: Iterable[tuple[bytes, str]], chunk_size: int = 100, archive: bool = False) -> dict[str, int]:
        """Take several messages in; returns how many ended in each action.

        Messages go in chunks: one query finds the ones taken in before, and one
        transaction logs the chunk's outcomes. A crash before that log is written
        loses no mail, because the issue service refuses a second issue or comment
        with the same `Message-ID`. With `archive`, new messages are imported in
        bulk without notifications (see `wenti_intake_email.bulk`).
        """
        from wenti_intake_email.bulk import take_chunk_bulk

        take_chunk = (lambda chunk: take_chunk_bulk(self, chunk)) if archive else self._take_chunk
        counts = {CREATED: 0, COMMENTED: 0, IGNORED: 0, DUPLICATE: 0, QUARANTINED: 0}
        chunk: list[tuple[bytes, str]] = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= chunk_size:
                for outcome in take_chunk(chunk):
                    counts[outcome.action] += 1
                chunk = []
        if chunk:
            for outcome in take_chunk(chunk):
                counts[outcome.action] += 1
        return counts

    def _take_chunk(self, items: list[tuple[bytes, str]]) -> list[Outcome]:
        parsed: list[tuple[bytes, str, ParsedMail | Outcome]] = [(raw, source, self._parse(raw, source)) for raw, source in items]
        seen = self._seen([mail.message_id for _raw, _source, mail in parsed if isinstance(mail, ParsedMail)])
        outcomes: list[Outcome] = []
        log_rows: list[dict[str, Any]] = []
        for raw, source, mail in parsed:
            if isinstance(mail, Outcome):
                outcomes.append(mail)
                continue
            if mail.message_id in seen:
                outcomes.append(Outcome(DUPLICATE, mail.message_id))
                continue
            seen.add(mail.message_id)
            outcome = self._take_parsed(raw, source, mail)
            outcomes.append(outcome)
            if outcome.action != QUARANTINED:
                log_rows.append(self._log_row(mail, source, outcome))
        self._write_log(log_rows)
        return outcomes

    def _parse(self, raw: bytes, source: str) -> ParsedMail | Outcome:
        try:
            return parse_mail(raw, self.config.own_domain)
        except UnreadableMail as error:
            return self._quarantine(raw, source, None, str(error))
        except Exception as error:  # noqa: BLE001 - any parser failure is this message's problem
            log.exception("mail could not be parsed source=%s", source)
            return self._quarantine(raw, source, None, f"the message could not be parsed: {type(error).__name__}: {error}")

    def _take_parsed(self, raw: bytes, source: str, mail: ParsedMail) -> Outcome:
        if mail.automatic:
            log.info("automatic mail ignored message_id=%s reason=%s", mail.message_id, mail.automatic)
            return Outcome(IGNORED, mail.message_id, reason=mail.automatic)
        try:
            return self._apply(mail)
        except WentiError as error:
            return self._quarantine(raw, source, mail.message_id, str(error))
        except Exception as error:  # noqa: BLE001 - the next messages must still be taken in
            log.exception("mail could not be taken in message_id=%s source=%s", mail.message_id, source)
            return self._quarantine(raw, source, mail.message_id, f"{type(error).__name__}: {error}")

    # -- deciding ------------------------------------------------------------------

    def _apply(self, mail: ParsedMail) -> Outcome:
        ctx = self._sender_context(mail)
        thread = self._thread_issue(mail)
        if thread is not None:
            issue_id, reporter = thread
            if reporter != ctx.username and _role(ctx) == "reporter":
                # A reporter may comment only on issues they reported, so mail from
                # someone else in the thread is kept as the service user's comment.
                return self._comment(self._context(self.config.service_user), issue_id, mail, on_behalf=True)
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

    def _comment(self, ctx: Any, issue_id: int, mail: ParsedMail, on_behalf: bool = False) -> Outcome:
        body = strip_quoted(mail.text) or mail.text or mail.subject or "(empty reply)"
        if on_behalf:
            body = f"{mail.sender_name} <{mail.sender}>:\n{body}".strip()
        try:
            comment = self.app.issues.comment(ctx, issue_id, body, visibility="public", source=SOURCE, external_id=mail.message_id)
        except (PermissionDenied, NotFound):
            if on_behalf:
                raise
            return self._comment(self._context(self.config.service_user), issue_id, mail, on_behalf=True)
        self._attach(ctx, issue_id, comment.id, mail)
        log.info("comment added from mail tenant=%s issue=%s message_id=%s", self.tenant_id, issue_id, mail.message_id)
        return Outcome(COMMENTED, mail.message_id, issue_id, comment.id)

    def _thread_issue(self, mail: ParsedMail) -> tuple[int, str] | None:
        """Find the issue a reply belongs to: by thread headers first, then by the key in an address or the subject."""
        root = re.compile(rf"<issue\.{re.escape(self.tenant_id)}\.(\d+)@{re.escape(self.config.own_domain)}>")
        with self.app.uow(self.tenant_id) as uow:
            for reference in reversed(mail.references):
                match = root.fullmatch(reference)
                issue = uow.issues.get(int(match.group(1))) if match else uow.issues.find_by_external_id(SOURCE, reference)
                if issue is None and not match:
                    comment = uow.comments.find_by_external_id(SOURCE, reference)
                    issue = uow.issues.get(comment.issue_id) if comment is not None else None
                if issue is not None:
                    return issue.id, issue.reporter
            for text in [*mail.recipients, mail.subject]:
                for queue_key, number in ISSUE_KEY.findall(text):
                    issue = uow.issues.get(int(number))
                    if issue is not None and issue.queue.lower() == queue_key.lower():
                        return issue.id, issue.reporter
        return None

    # -- people ----------------------------------------------------------------

    def _sender_context(self, mail: ParsedMail) -> Any:
        username = self._user_for(mail.sender)
        if username is None and self.config.create_reporters:
            username = self._create_reporter(mail)
        return self._context(username or self.config.service_user)

    def _context(self, username: str) -> Any:
        """Return the acting context of `username`, reused for up to a minute (a role change shows after that)."""
        now = time.monotonic()
        cached = self._contexts.get(username)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        ctx = self.app.context(self.tenant_id, username)
        self._contexts[username] = (now, ctx)
        return ctx

    def _user_for(self, address: str) -> str | None:
        """Return the account with this e-mail address; the address map is reloaded on a miss at most once a minute."""
        username = self._users_by_email.get(address)
        if username is not None:
            return username
        if time.monotonic() - self._users_loaded_at >= CACHE_SECONDS:
            with self.app.uow(self.tenant_id) as uow:
                users = uow.users.list()
            self._users_by_email = {user.email.lower(): user.username for user in users if user.email and user.active}
            self._users_loaded_at = time.monotonic()
        return self._users_by_email.get(address)

    def _create_reporter(self, mail: ParsedMail) -> str:
        username = mail.sender if USERNAME_OK.match(mail.sender) else "mail-" + _short_hash(mail.sender)
        with self.app.uow(self.tenant_id) as uow:
            existing = uow.users.get(username)
        if existing is None:
            admin = self._context(self.config.service_user)
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

    def _seen(self, message_ids: list[str]) -> set[str]:
        """Return the ids among `message_ids` that are in the message log already."""
        if not message_ids:
            return set()
        with self.app.uow(self.tenant_id) as uow:
            rows = uow.sql_connection().execute(
                select(messages.c.message_id).where(
                    messages.c.tenant_id == self.tenant_id, messages.c.message_id.in_(message_ids)
                )
            )
            return set(rows.scalars())

    def _log_row(self, mail: ParsedMail, source: str, outcome: Outcome) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "message_id": mail.message_id,
            "source": source[:255],
            "action": outcome.action,
            "issue_id": outcome.issue_id,
            "comment_id": outcome.comment_id,
            "sender": mail.sender[:255],
            "reason": outcome.reason,
            "received_at": self.app.clock.now(),
        }

    def _write_log(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self.app.uow(self.tenant_id) as uow:
            conn = uow.sql_connection()
            # Another poller may have logged some of these meanwhile; keep its rows.
            present = set(
                conn.execute(
                    select(messages.c.message_id).where(
                        messages.c.tenant_id == self.tenant_id,
                        messages.c.message_id.in_([row["message_id"] for row in rows]),
                    )
                ).scalars()
            )
            fresh = [row for row in rows if row["message_id"] not in present]
            if fresh:
                conn.execute(messages.insert(), fresh)
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
        """List the newest quarantined messages, without their bytes."""
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


def _role(ctx: Any) -> str:
    return str(getattr(ctx.user.role, "value", ctx.user.role))


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
