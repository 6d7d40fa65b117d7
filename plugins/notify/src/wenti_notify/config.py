"""The `[plugins.notify]` table: who hears about what, and how the dispatcher runs."""

from __future__ import annotations

import attrs

# Event kinds a rule can name (see `wenti_notify.routing.event_kind`).
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

# Audiences a rule can name as recipients.
AUDIENCES = ("reporter", "assignee", "watchers", "queue_members", "manager", "queue_channels", "subscribers")

# `subscribers` are the targets that broadcast channels (webhooks) choose themselves.
DEFAULT_RULES: dict[str, list[str]] = {
    "created": ["assignee", "queue_members", "queue_channels", "subscribers"],
    "assigned": ["assignee", "subscribers"],
    "commented": ["reporter", "assignee", "watchers", "subscribers"],
    "note": ["assignee", "watchers", "subscribers"],
    "transitioned": ["reporter", "assignee", "watchers", "subscribers"],
    "resolved": ["reporter", "assignee", "watchers", "queue_channels", "subscribers"],
    "updated": ["subscribers"],
    "sla_warning": ["assignee", "queue_channels", "subscribers"],
    "sla_breached": ["assignee", "manager", "queue_channels", "subscribers"],
}


def _default_rules() -> dict[str, list[str]]:
    return {kind: list(audiences) for kind, audiences in DEFAULT_RULES.items()}


@attrs.define
class QueueChannel:
    """A group channel of a queue, such as the team's DingTalk group robot.

    `target` names the robot or endpoint in the channel plugin's own table.
    `events` limits the kinds sent there (empty: every kind whose rule names
    `queue_channels`). Internal notes reach it only with `include_internal = true`.
    """

    queue: str
    channel: str
    target: str
    events: list[str] = attrs.Factory(list)
    include_internal: bool = False

    def __attrs_post_init__(self) -> None:
        unknown = [kind for kind in self.events if kind not in EVENT_KINDS]
        if unknown:
            raise ValueError(
                f"queue channel {self.queue}/{self.channel}: unknown event kinds {unknown}; "
                f"use some of {', '.join(EVENT_KINDS)}"
            )


@attrs.define
class NotifyConfig:
    """Validated `[plugins.notify]`.

    `issue_url` is formatted with `base_url`, `key` and `id` to make the link in
    every message; an empty `base_url` takes `[instance] base_url`.
    `default_channels` are the personal channels of users who set no preference.
    `rules` maps an event kind to its audiences and replaces the default rule of
    each kind it names. `dispatch_by_job` lets the `notify.dispatch` scheduled job
    send as well, for deployments that run jobs on workers and turn
    `dispatch_in_process` off.
    """

    base_url: str = ""
    issue_url: str = "{base_url}/issues/{id}"
    default_channels: list[str] = attrs.Factory(lambda: ["email"])
    rules: dict[str, list[str]] = attrs.Factory(dict)
    queue_channels: list[QueueChannel] = attrs.Factory(list)
    dispatch_in_process: bool = True
    dispatch_by_job: bool = False
    interval_seconds: float = 1.0
    batch_size: int = 200
    lease_seconds: float = 120.0
    digest_max_items: int = 30

    def __attrs_post_init__(self) -> None:
        for kind, audiences in self.rules.items():
            if kind not in EVENT_KINDS:
                raise ValueError(f"rules: unknown event kind {kind!r}; use one of {', '.join(EVENT_KINDS)}")
            unknown = [name for name in audiences if name not in AUDIENCES]
            if unknown:
                raise ValueError(f"rules.{kind}: unknown audiences {unknown}; use some of {', '.join(AUDIENCES)}")
        if self.interval_seconds <= 0:
            raise ValueError(f"interval_seconds = {self.interval_seconds} must be greater than 0")
        if self.batch_size < 1:
            raise ValueError(f"batch_size = {self.batch_size} must be at least 1")
        if self.lease_seconds < 1:
            raise ValueError(f"lease_seconds = {self.lease_seconds} must be at least 1")
        if self.digest_max_items < 1:
            raise ValueError(f"digest_max_items = {self.digest_max_items} must be at least 1")

    def audiences(self, kind: str) -> list[str]:
        """Return the audiences of an event kind: the configured rule, else the default."""
        if kind in self.rules:
            return list(self.rules[kind])
        return list(_default_rules().get(kind, []))
