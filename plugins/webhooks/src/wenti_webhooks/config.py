"""The `[plugins.webhooks]` table: endpoints, their secrets and what they subscribe to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import attrs

from wenti.config import Secret

from wenti_webhooks.signing import secret_key

# The kinds of events an endpoint can subscribe to, the same names notification rules use.
EVENT_KINDS = (
    "created",
    "assigned",
    "commented",
    "note",
    "transitioned",
    "resolved",
    "updated",
    "sla_warning",
    "sla_breached",
)

# Standard Webhooks suggests retrying over about three days. wenti keeps a shorter
# schedule of about a day: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 6 h after the
# first attempt (23.6 h in total). Each wait gets 10 % jitter.
RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 21600)


def reveal(value: Any) -> str:
    """Return the plain text of a `Secret` or a literal string."""
    return value.reveal() if isinstance(value, Secret) else str(value)


@attrs.define
class Endpoint:
    """One receiver. `secrets` lists the active secrets; two of them during a rotation.

    `events` limits the event kinds sent (empty: all but internal notes).
    Internal notes go out only with `include_internal = true`.
    """

    name: str
    url: str
    secrets: list[Secret]
    tenant: str = "default"
    events: list[str] = attrs.Factory(list)
    include_internal: bool = False

    def __attrs_post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"webhook endpoint {self.name!r}: url {self.url!r} must be an http:// or https:// URL")
        if not self.secrets:
            raise ValueError(f"webhook endpoint {self.name!r}: add at least one secret (whsec_...)")
        if len(self.secrets) > 2:
            raise ValueError(
                f"webhook endpoint {self.name!r}: {len(self.secrets)} secrets given; keep at most two "
                "(the old and the new one while rotating)"
            )
        for secret in self.secrets:
            try:
                secret_key(reveal(secret))
            except ValueError as error:
                raise ValueError(f"webhook endpoint {self.name!r}: {error}") from error
        unknown = [kind for kind in self.events if kind not in EVENT_KINDS]
        if unknown:
            raise ValueError(f"webhook endpoint {self.name!r}: unknown events {unknown}; use some of {', '.join(EVENT_KINDS)}")

    def wants(self, kind: str) -> bool:
        if kind == "note" and not self.include_internal:
            return False
        return not self.events or kind in self.events

    def secret_values(self) -> list[str]:
        return [reveal(secret) for secret in self.secrets]


@attrs.define
class WebhooksConfig:
    """Validated `[plugins.webhooks]`; nothing is sent until `enabled = true`."""

    enabled: bool = False
    timeout_seconds: float = 10.0
    endpoints: list[Endpoint] = attrs.Factory(list)

    def __attrs_post_init__(self) -> None:
        if not 0 < self.timeout_seconds <= 60:
            raise ValueError(f"timeout_seconds = {self.timeout_seconds} must be between 0 and 60 seconds")
        names = [endpoint.name for endpoint in self.endpoints]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"webhook endpoint names must be unique; repeated: {', '.join(duplicates)}")

    def endpoint(self, name: str) -> Endpoint | None:
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        return None
