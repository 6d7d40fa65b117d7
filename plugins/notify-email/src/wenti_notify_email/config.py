"""The `[plugins.notify-email]` table: the SMTP server and the addresses mail carries."""

from __future__ import annotations

import attrs

from wenti.config import Secret

SECURITY_MODES = ("starttls", "tls", "none")


@attrs.define
class EmailConfig:
    """Validated `[plugins.notify-email]`; nothing is sent until `enabled = true`.

    `security` is `starttls` (plain connection upgraded with STARTTLS, usually port
    587), `tls` (TLS from the first byte, usually port 465) or `none` (only for a
    relay on the same machine). `reply_address` may contain `{key}`, which becomes
    the issue key, so a reply reaches the intake mailbox with its issue attached
    (`support+{key}@example.com` works with servers that deliver `+` addresses to
    the base mailbox). `message_id_domain` is the right-hand side of every
    `Message-ID` wenti writes; intake uses it to recognise its own mail.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 587
    security: str = "starttls"
    username: str = ""
    password: Secret | None = None
    from_address: str = "wenti@localhost"
    from_name: str = "wenti"
    reply_address: str = ""
    message_id_domain: str = "wenti.localhost"
    timeout_seconds: float = 30.0
    ca_file: str = ""

    def __attrs_post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"security = {self.security!r} is unknown; use one of {', '.join(SECURITY_MODES)}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port = {self.port} is not a TCP port (1-65535)")
        if "@" not in self.from_address:
            raise ValueError(f"from_address = {self.from_address!r} is not an e-mail address")
        if self.reply_address and "@" not in self.reply_address:
            raise ValueError(f"reply_address = {self.reply_address!r} is not an e-mail address (use {{key}} for the issue key)")
        if self.username and self.password is None:
            raise ValueError("username is set but password is missing; add password = { env = \"VAR\" }")
        if not 0 < self.timeout_seconds <= 300:
            raise ValueError(f"timeout_seconds = {self.timeout_seconds} must be between 0 and 300")
        if not self.message_id_domain or "@" in self.message_id_domain or " " in self.message_id_domain:
            raise ValueError(f"message_id_domain = {self.message_id_domain!r} must be a domain name such as wenti.example.com")
