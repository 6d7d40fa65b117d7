"""The `[plugins.intake-email]` table: where mail comes from and which queue it feeds."""

from __future__ import annotations

import re

import attrs

from wenti.config import Secret

SECURITY_MODES = ("tls", "starttls", "none")


@attrs.define
class ImapSettings:
    """An IMAP mailbox to poll. `security = "none"` is meant for a server on the same machine."""

    host: str
    username: str
    password: Secret
    port: int = 993
    security: str = "tls"
    folder: str = "INBOX"
    quarantine_folder: str = "wenti-quarantine"
    batch_size: int = 100
    timeout_seconds: float = 30.0
    ca_file: str = ""

    def __attrs_post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"imap.security = {self.security!r} is unknown; use one of {', '.join(SECURITY_MODES)}")
        if not 0 < self.port < 65536:
            raise ValueError(f"imap.port = {self.port} is not a TCP port (1-65535)")
        if not 1 <= self.batch_size <= 1000:
            raise ValueError(f"imap.batch_size = {self.batch_size} must be between 1 and 1000")


@attrs.define
class IntakeConfig:
    """Validated `[plugins.intake-email]`.

    New mail becomes an issue in `queue` of `tenant`. Senders without an account
    get a reporter account when `create_reporters` is on, created by
    `service_user`. Otherwise their mail is taken in as `service_user`.
    `own_domain` is the `Message-ID` domain of wenti's own notifications (the
    `message_id_domain` of `[plugins.notify-email]`): replies that refer to it find
    their issue, and mail carrying it is never taken in.
    """

    enabled: bool = False
    tenant: str = "default"
    queue: str = "general"
    service_user: str = "admin"
    create_reporters: bool = True
    own_domain: str = "wenti.localhost"
    imap: ImapSettings | None = None

    def __attrs_post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9_-]+", self.queue):
            raise ValueError(f"queue = {self.queue!r} is not a queue key (lower-case letters, digits, - and _)")
