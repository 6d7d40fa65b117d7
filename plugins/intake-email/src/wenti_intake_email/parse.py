"""Turning raw mail bytes into what intake needs: ids, sender, subject, text, attachments.

Parsing uses `email` with `policy.compat32`, which keeps header bytes as they
were on the wire, and `wenti_intake_email.decode` decodes them. Anything that
cannot be read raises `UnreadableMail` with the reason, and the caller moves the
message aside.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from datetime import datetime, timezone
import attrs

from wenti_intake_email.decode import decode_bytes, decode_header_value, decode_param, html_to_text, raw_header_bytes

MESSAGE_ID = re.compile(r"<[^<>\s]+>")

# Lines that start the quoted history of a reply, in the clients Chinese and
# English users send from (Outlook, Foxmail, QQ Mail, NetEase, Gmail, Apple Mail).
QUOTE_MARKERS = (
    re.compile(r"^-{2,}\s*(Original Message|原始邮件|原始郵件)\s*-{2,}", re.I),
    re.compile(r"^(发件人|From)\s*[:：]"),
    re.compile(r"^On .{4,200} wrote:\s*$"),
    re.compile(r"^在 ?.{4,200}(写道|寫道)\s*[:：]\s*$"),
    re.compile(r"^>"),
)

MAX_SUBJECT = 200


class UnreadableMail(ValueError):
    """The message cannot be turned into an issue or comment; the text gives the reason."""


@attrs.frozen
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


@attrs.frozen
class ParsedMail:
    message_id: str
    references: tuple[str, ...]
    subject: str
    sender: str
    sender_name: str
    recipients: tuple[str, ...]
    date: datetime | None
    text: str
    attachments: tuple[MailAttachment, ...]
    automatic: str | None
    headers: dict[str, str]


def parse_mail(raw: bytes, own_domain: str = "") -> ParsedMail:
    """Parse one message; raises `UnreadableMail` when it has no sender or no content."""
    if not raw or not raw.strip():
        raise UnreadableMail("the message is empty")
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not message.keys():
        raise UnreadableMail("the message has no headers")

    headers = {name.lower(): decode_header_value(value) for name, value in message.raw_items()}
    senders = getaddresses([headers.get("from", "")])
    sender_name, sender = senders[0] if senders else ("", "")
    sender = sender.strip().lower()
    if "@" not in sender:
        raise UnreadableMail(f"the From header {headers.get('from', '')!r} contains no e-mail address")

    message_id = _first_id(headers.get("message-id", "")) or _synthetic_id(raw)
    references = tuple(
        dict.fromkeys(MESSAGE_ID.findall(headers.get("in-reply-to", "")) + MESSAGE_ID.findall(headers.get("references", "")))
    )
    recipients = tuple(
        address.lower()
        for _name, address in getaddresses([headers.get(name, "") for name in ("to", "cc", "delivered-to", "x-original-to")])
        if "@" in address
    )
    subject = " ".join(headers.get("subject", "").split())[:MAX_SUBJECT]
    text, attachments = _content(message)

    return ParsedMail(
        message_id=message_id,
        references=references,
        subject=subject,
        sender=sender,
        sender_name=sender_name.strip(),
        recipients=recipients,
        date=_date(headers.get("date")),
        text=text,
        attachments=tuple(attachments),
        automatic=automatic_reason(message, headers, sender, message_id, own_domain),
        headers=headers,
    )


def _first_id(value: str) -> str | None:
    found = MESSAGE_ID.findall(value)
    return found[0] if found else None


def _synthetic_id(raw: bytes) -> str:
    """Make a stable id for a message without `Message-ID`, so fetching it twice still dedupes."""
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.wenti>"


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def automatic_reason(message: Message, headers: dict[str, str], sender: str, message_id: str, own_domain: str) -> str | None:
    """Why a message was sent by a machine (and must not open an issue), or None.

    Covers RFC 3834 `Auto-Submitted`, `Precedence: bulk/junk/list/auto_reply`,
    Exchange's `X-Auto-Response-Suppress`, the `X-Autoreply`/`X-Autorespond`
    headers of other servers, delivery reports (bounces) and mail wenti sent.
    """
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if "x-auto-response-suppress" in headers:
        return f"X-Auto-Response-Suppress: {headers['x-auto-response-suppress']}"
    for name in ("x-autoreply", "x-autorespond", "x-autogenerated"):
        if name in headers:
            return f"{name}: {headers[name]}"
    if message.get_content_type() == "multipart/report":
        return "delivery report (multipart/report)"
    local_part = sender.split("@", 1)[0]
    if local_part in ("mailer-daemon", "postmaster"):
        return f"bounce from {sender}"
    if headers.get("return-path", "").strip() == "<>":
        return "bounce (empty Return-Path)"
    if own_domain and (message_id.endswith(f"@{own_domain}>") or "x-wenti-issue" in headers):
        return "sent by wenti"
    return None


def _content(message: Message) -> tuple[str, list[MailAttachment]]:
    plain: list[str] = []
    markup: list[str] = []
    attachments: list[MailAttachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = _filename(part)
        disposition = part.get_content_disposition() or ""
        content_type = part.get_content_type()
        payload = part.get_payload(decode=True) or b""
        if filename or disposition == "attachment" or not content_type.startswith("text/"):
            if content_type == "message/rfc822" and not payload:
                payload = part.as_bytes()
            attachments.append(MailAttachment(filename or _default_name(content_type, len(attachments)), content_type, payload))
            continue
        text = decode_bytes(payload, part.get_content_charset())
        if content_type == "text/html":
            markup.append(text)
        else:
            plain.append(text)

    if plain:
        body = "\n".join(plain)
    elif markup:
        body = "\n".join(html_to_text(item) for item in markup)
    else:
        body = ""
    return body.replace("\r\n", "\n").strip(), attachments


def _filename(part: Message) -> str:
    """Return the attachment's decoded name from `Content-Disposition` or `Content-Type`.

    The header is read raw: `email` would turn raw 8-bit bytes into U+FFFD before
    the name could be decoded as GBK, so the bytes are decoded first and the
    parameters are parsed from the text.
    """
    raw_headers = {name.lower(): value for name, value in part.raw_items()}
    for header, name in (("content-disposition", "filename"), ("content-type", "name")):
        raw = raw_headers.get(header)
        if raw is None:
            continue
        data = raw_header_bytes(raw)
        holder = Message()
        holder[header] = data.decode("ascii") if data.isascii() else decode_bytes(data)
        value = holder.get_param(name, header=header)
        if value:
            decoded = decode_param(value)
            return decoded.replace("/", "_").replace("\\", "_").strip()
    return ""


def _default_name(content_type: str, index: int) -> str:
    extension = {"message/rfc822": "eml", "application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(content_type, "bin")
    return f"attachment-{index + 1}.{extension}"


def strip_quoted(text: str) -> str:
    """Return the new part of a reply: everything before the first line of quoted history."""
    kept: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if any(marker.match(stripped) for marker in QUOTE_MARKERS):
            break
        kept.append(line)
    return "\n".join(kept).strip()
