"""The `[plugins.web]` table of `wenti.toml`."""

from __future__ import annotations

from typing import Any

import attrs

from wenti_web.proxies import parse_network


def _positive(instance: Any, attribute: attrs.Attribute, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be a positive number, got {value!r}")


def _cache_seconds(instance: Any, attribute: attrs.Attribute, value: int) -> None:
    if not 0 <= value <= 60:
        raise ValueError(f"{attribute.name} must be between 0 and 60 seconds, got {value!r}")


def _networks(instance: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    # A TOML string where a list belongs arrives here as a tuple of characters.
    if len(value) > 1 and all(isinstance(entry, str) and len(entry) == 1 for entry in value):
        written = "".join(value)
        raise ValueError(f'trusted_proxies must be a list such as ["{written}"], got the string {written!r}')
    for entry in value:
        parse_network(entry)


@attrs.frozen
class WebConfig:
    """Settings of the web app. Times are in minutes unless the name says otherwise."""

    host: str = "127.0.0.1"
    port: int = attrs.field(default=8000, validator=_positive)
    workers: int = attrs.field(default=1, validator=_positive)
    default_tenant: str = "default"
    # Sessions: an idle session ends after `session_idle_minutes`, any session after
    # `session_absolute_hours`, whichever comes first.
    session_idle_minutes: int = attrs.field(default=120, validator=_positive)
    session_absolute_hours: int = attrs.field(default=12, validator=_positive)
    # Cookies get the Secure flag; switch off only for plain-HTTP development on loopback.
    secure_cookies: bool = False
    # Login throttling: after `login_free_attempts` failures, each further attempt of
    # the same account or from the same IP waits twice as long, up to
    # `login_max_delay_seconds`; it never locks an account for good.
    login_free_attempts: int = attrs.field(default=5, validator=_positive)
    login_max_delay_seconds: int = attrs.field(default=900, validator=_positive)
    # Stored responses of Idempotency-Key requests are kept at least this long.
    idempotency_hours: int = attrs.field(default=24, validator=_positive)
    api_page_max: int = attrs.field(default=200, validator=_positive)
    # How long a worker reuses an API token check without asking the database, so a
    # token revoked through another worker still works for up to this long. 0 turns
    # the cache off. At most 60, because the token's `last_used_at` is recorded once a minute.
    token_cache_seconds: int = attrs.field(default=5, validator=_cache_seconds)
    # Reverse proxies (IP addresses or CIDR networks) whose `X-Forwarded-For` is believed
    # for the client address that login throttling, sessions and log lines record. Empty:
    # the socket peer is the client and forwarded headers are ignored.
    trusted_proxies: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=_networks)


def web_config(app: Any) -> WebConfig:
    """The validated `[plugins.web]` settings, or the defaults when the table is absent."""
    config = app.plugin_config("web")
    if isinstance(config, WebConfig):
        return config
    return WebConfig()


def max_upload_bytes(app: Any) -> int:
    """The upload limit from `[attachments] max_size_mb`."""
    return int(app.config.attachments.max_size_mb) * 1024 * 1024
