"""The `email` notification channel: one SMTP transaction per message.

Connection and authentication settings come from `[plugins.notify-email]`. A 5xx
reply that rejects the recipient or the login is permanent: the delivery becomes a
dead letter at once, with the server's reply. 4xx replies, timeouts and refused
connections are retried on the notify plugin's schedule.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import ssl
from typing import Any

from wenti_notify_email.config import EmailConfig
from wenti_notify_email.mail import build_message

log = logging.getLogger(__name__)


class MailError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def config_of(app: Any) -> EmailConfig:
    return app.plugin_config("notify-email")


def tls_context(config: EmailConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.ca_file or None)
    return context


class EmailChannel:
    """The `send` callable registered as the `email` notifier."""

    digest = False
    personal = True

    def is_enabled(self, app: Any) -> bool:
        return config_of(app).enabled

    def __call__(self, message: dict[str, Any], app: Any) -> None:
        config = config_of(app)
        try:
            mail = build_message(config, message, app.clock.now())
        except ValueError as error:
            raise MailError(str(error), permanent=True) from error
        send_mail(config, mail)


def send_mail(config: EmailConfig, mail: Any) -> None:
    """Send one message through the configured server; raise `MailError` on failure."""
    try:
        with _connect(config) as smtp:
            if config.security == "starttls":
                smtp.starttls(context=tls_context(config))
                smtp.ehlo()
            if config.username:
                password = config.password.reveal() if config.password is not None else ""
                login(smtp, config.username, password)
            refused = smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(
            f"SMTP server {config.host}:{config.port} refused the login of {config.username!r}: "
            f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}. Check username and password in [plugins.notify-email].",
            permanent=True,
        ) from error
    except smtplib.SMTPRecipientsRefused as error:
        codes = {address: code for address, (code, _text) in error.recipients.items()}
        permanent = all(code >= 500 for code in codes.values())
        raise MailError(f"SMTP server refused the recipients {codes}", permanent=permanent) from error
    except smtplib.SMTPResponseException as error:
        raise MailError(
            f"SMTP server replied {error.smtp_code} {error.smtp_error.decode(errors='replace')}",
            permanent=error.smtp_code >= 500,
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(f"sending through {config.host}:{config.port} failed: {type(error).__name__}: {error}") from error
    if refused:
        raise MailError(f"SMTP server refused some recipients: {refused}")
    log.debug("mail sent message_id=%s", mail["Message-ID"])


def login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """Log in; non-ASCII credentials go as UTF-8 with AUTH PLAIN (RFC 4616).

    `smtplib.SMTP.login` encodes credentials as ASCII and fails on a password such
    as `口令2024`, so those are sent by hand.
    """
    if username.isascii() and password.isascii():
        smtp.login(username, password)
        return
    smtp.ehlo_or_helo_if_needed()
    token = base64.b64encode(b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, answer = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


def _connect(config: EmailConfig) -> smtplib.SMTP:
    if config.security == "tls":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_seconds, context=tls_context(config))
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)


channel = EmailChannel()
