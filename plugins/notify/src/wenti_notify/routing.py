"""Routing: which channel and recipient hear about an event.

`route()` is a pure function of the event kind, the people around the issue, their
preferences and the config, so the rules are tested without a database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import attrs

from wenti_notify.config import NotifyConfig

log = logging.getLogger(__name__)

# Audiences of a target: what it may be shown.
REPORTER = "reporter"
AGENT = "agent"
SYSTEM = "system"


@attrs.frozen
class Person:
    username: str
    display_name: str
    role: str
    email: str | None = None
    locale: str | None = None
    active: bool = True

    @property
    def audience(self) -> str:
        return REPORTER if self.role == "reporter" else AGENT


@attrs.frozen
class Preference:
    """A user's choices: channels in order, muted event kinds, or no notifications at all."""

    channels: tuple[str, ...] = ()
    muted: tuple[str, ...] = ()
    opted_out: bool = False


@attrs.frozen
class RoutingInput:
    """Everything routing needs about one event and its issue."""

    kind: str
    queue: str
    actor: str
    reporter: str
    assignee: str | None
    manager: str | None
    queue_members: tuple[str, ...]
    watchers: tuple[str, ...]
    people: Mapping[str, Person]
    preferences: Mapping[str, Preference]
    tenant_locale: str = "zh_CN"
    # People an SLA `notify` escalation names in its `to`, added to the kind's audiences.
    escalation_to: tuple[str, ...] = ()


@attrs.frozen
class Target:
    """One delivery to make: `recipient` is a username, a robot name or an endpoint name."""

    channel: str
    recipient: str
    audience: str
    locale: str
    person: Person | None = None
    include_internal: bool = False


def event_kind(event_type: str, data: Mapping[str, object], target_category: str | None) -> str | None:
    """Map a history event to the kind that rules name; None for events that notify no one.

    A transition into a resolved or closed state is `resolved`; an internal
    comment is `note`. Imports and links notify no one.
    """
    if event_type == "issue.created":
        return "created"
    if event_type == "issue.assigned":
        return "assigned"
    if event_type == "issue.commented":
        return "note" if data.get("visibility") == "internal" else "commented"
    if event_type == "issue.transitioned":
        return "resolved" if target_category in ("resolved", "closed") else "transitioned"
    if event_type == "issue.updated":
        return "updated"
    if event_type == "sla.warning":
        return "sla_warning"
    if event_type == "sla.breached":
        return "sla_breached"
    return None


def route(
    data: RoutingInput,
    config: NotifyConfig,
    *,
    personal_channels: Sequence[str],
    subscribers: Mapping[str, Sequence[str]] | None = None,
) -> list[Target]:
    """Decide the deliveries of one event.

    :param personal_channels: installed channels that can reach one person (e-mail).
    :param subscribers: channel -> targets that broadcast channels chose for this
        event (webhook endpoints subscribed to its kind).
    :return: targets without duplicates; never the person who made the change.
    """
    audiences = config.audiences(data.kind)
    targets: list[Target] = []
    seen: set[tuple[str, str]] = set()

    def add(target: Target) -> None:
        key = (target.channel, target.recipient)
        if key not in seen:
            seen.add(key)
            targets.append(target)

    for username in _people_of(data, audiences):
        for target in _person_targets(data, username, config, personal_channels):
            add(target)

    for channel in config.queue_channels:
        if channel.queue != data.queue:
            continue
        wanted = data.kind in channel.events if channel.events else "queue_channels" in audiences
        if data.kind == "note" and not channel.include_internal:
            wanted = False
        if wanted:
            add(Target(channel.channel, channel.target, AGENT, data.tenant_locale, None, channel.include_internal))

    if "subscribers" in audiences:
        for channel, names in (subscribers or {}).items():
            for name in names:
                add(Target(channel, name, SYSTEM, data.tenant_locale))
    return targets


def _people_of(data: RoutingInput, audiences: Sequence[str]) -> list[str]:
    names: list[str] = []
    if "reporter" in audiences:
        names.append(data.reporter)
    if "assignee" in audiences and data.assignee:
        names.append(data.assignee)
    if "watchers" in audiences:
        names.extend(data.watchers)
    if "queue_members" in audiences:
        names.extend(data.queue_members)
    if "manager" in audiences and data.manager:
        names.append(data.manager)
    names.extend(data.escalation_to)
    unique = []
    for name in names:
        if name and name != data.actor and name not in unique:
            unique.append(name)
    return unique


def _person_targets(
    data: RoutingInput, username: str, config: NotifyConfig, personal_channels: Sequence[str]
) -> list[Target]:
    person = data.people.get(username)
    if person is None or not person.active:
        return []
    if data.kind == "note" and person.audience == REPORTER:
        return []
    preference = data.preferences.get(username, Preference())
    if preference.opted_out or data.kind in preference.muted:
        return []

    targets = []
    locale = person.locale or data.tenant_locale
    for channel in preference.channels or tuple(config.default_channels):
        if channel not in personal_channels:
            continue
        if channel == "email" and not person.email:
            log.info("no e-mail address for user=%s; skipping the e-mail notification", username)
            continue
        targets.append(Target(channel, username, person.audience, locale, person, person.audience == AGENT))
    return targets
