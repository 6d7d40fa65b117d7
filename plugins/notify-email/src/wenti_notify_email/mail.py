"""Building notification e-mails: headers that thread, reply addresses and loop guards.

Every message of one issue refers to the same thread root,
`<issue.{tenant}.{issue id}@{domain}>`, in `In-Reply-To` and `References`, so mail
clients show an issue's notifications as one conversation and a reply to any of
them names the issue. Each message's own `Message-ID` is
`<{delivery message id}@{domain}>`, identical on every retry, so a receiving
server or our own intake can drop a resend.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from wenti_notify_email.config import EmailConfig

THREAD_ROOT = re.compile(r"<issue\.(?P<tenant>[^.<>@]+)\.(?P<issue>\d+)@(?P<domain>[^<>]+)>")


def thread_root(thread: str, domain: str) -> str:
    return f"<issue.{thread}@{domain}>"


def message_id(delivery_id: str, domain: str) -> str:
    return f"<{delivery_id}@{domain}>"


def reply_address(config: EmailConfig, issue_key: str) -> str:
    template = config.reply_address or config.from_address
    return template.replace("{key}", issue_key)


def build_message(config: EmailConfig, message: dict[str, Any], now: Any) -> EmailMessage:
    """Build a multipart (text and HTML) e-mail for one queued notification."""
    recipient = message.get("to") or {}
    address = recipient.get("email")
    if not address:
        raise ValueError(f"notification {message.get('id')} has no e-mail address for {message.get('recipient')!r}")

    mail = EmailMessage()
    mail["Subject"] = message["subject"]
    mail["From"] = Address(config.from_name, addr_spec=config.from_address)
    mail["To"] = Address(recipient.get("display_name") or "", addr_spec=address)
    issue_key = message.get("issue", {}).get("key", "")
    if issue_key:
        mail["Reply-To"] = reply_address(config, issue_key)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(message["id"], config.message_id_domain)
    if message.get("thread"):
        root = thread_root(message["thread"], config.message_id_domain)
        mail["In-Reply-To"] = root
        mail["References"] = root
    # RFC 3834: mark the mail as automatic so auto-responders stay quiet, and ask
    # Exchange not to send out-of-office replies.
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    mail["X-Wenti-Issue"] = issue_key
    mail["X-Wenti-Event"] = message.get("event_type", "")

    mail.set_content(message["text"])
    mail.add_alternative(message["html"], subtype="html")
    return mail
