"""SLA policies: targets per queue and priority, on a named calendar.

A policy is configured in `[plugins.sla]` (see `docs/sla.md`) and parsed here into
frozen values. All targets are working time on the policy's calendar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from wenti.domain import Role

METRICS = ("first_response", "resolution", "next_response")
PRIORITY_CHANGE_MODES = ("recompute", "restart")
ESCALATION_TRIGGERS = ("warning", "breached")
BUILTIN_ACTIONS = ("notify", "raise_priority", "reassign_to_manager")
# Roles a notify escalation may name as `to = "role:<role>"`.
ROLE_NAMES = tuple(role.value for role in Role)

# Events that may stop the first-response clock. `public_reply` and `internal_note` are
# comments by someone other than the reporter; `assigned` is the first assignment.
FIRST_RESPONSE_STOPS = ("public_reply", "internal_note", "assigned", "resolved")
STATE_CATEGORIES = ("open", "waiting", "resolved", "closed")

_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")


class PolicyError(ValueError):
    """Raised for an invalid policy; the message names the value and the fix."""


def parse_duration(value: Any, where: str) -> float:
    """Parse a working-time target (`"2h"`, `"30m"`, `"1h30m"` or minutes as a number) into seconds."""
    if isinstance(value, bool):
        raise PolicyError(f"{where} = {value!r} is not a duration; write minutes as a number or text like 2h or 1h30m")
    if isinstance(value, (int, float)):
        seconds = float(value) * 60
    else:
        match = _DURATION.match(str(value))
        if not match or not any(match.groups()):
            raise PolicyError(f"{where} = {value!r} is not a duration; write it like 2h, 30m or 1h30m")
        hours, minutes = (int(group) if group else 0 for group in match.groups())
        seconds = float(hours * 3600 + minutes * 60)
    if seconds <= 0:
        raise PolicyError(f"{where} = {value!r} must be longer than zero")
    return seconds


@attrs.frozen
class Targets:
    """Working-time targets in seconds for one priority; None means no target."""

    first_response: float | None = None
    resolution: float | None = None
    next_response: float | None = None

    def get(self, metric: str) -> float | None:
        return getattr(self, metric)


@attrs.frozen
class Escalation:
    """An action taken when a clock reaches a warning share or breaches.

    `metric` None means every metric. `share` limits a warning action to one warning
    share (0.75); None means every warning. `to` names who is notified: `role:<role>`,
    `user:<username>`, `assignee`, `reporter` or `queue_manager`.
    """

    on: str
    action: str
    metric: str | None = None
    share: float | None = None
    to: str | None = None

    def applies(self, trigger: str, metric: str, share: float | None = None) -> bool:
        if self.on != trigger:
            return False
        if self.metric is not None and self.metric != metric:
            return False
        if trigger == "warning" and self.share is not None and share is not None:
            return abs(self.share - share) < 1e-9
        return True


@attrs.frozen
class Policy:
    """One SLA policy. See `docs/sla.md` for the matching rules and defaults."""

    key: str
    name: str
    targets: Mapping[str, Targets]
    queues: tuple[str, ...] = ("*",)
    tenants: tuple[str, ...] = ("*",)
    calendar: str = "china"
    warn_at: tuple[float, ...] = (0.75,)
    pause_categories: tuple[str, ...] = ("waiting",)
    first_response_stop: tuple[str, ...] = ("public_reply",)
    resolution_stop: tuple[str, ...] = ("resolved", "closed")
    on_priority_change: str = "recompute"
    escalations: tuple[Escalation, ...] = ()

    def matches(self, tenant_id: str, queue: str) -> bool:
        tenant_ok = "*" in self.tenants or tenant_id in self.tenants
        queue_ok = "*" in self.queues or queue in self.queues
        return tenant_ok and queue_ok

    def targets_for(self, priority: str) -> Targets | None:
        return self.targets.get(priority) or self.targets.get("*")


def select_policy(policies: Iterable[Policy], tenant_id: str, queue: str, priority: str) -> Policy | None:
    """Return the first policy, in configured order, that matches the tenant and queue and has targets for the priority."""
    for policy in policies:
        if policy.matches(tenant_id, queue) and policy.targets_for(priority) is not None:
            return policy
    return None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise PolicyError(f"{where} = {value!r} must be a list of strings")
    return tuple(value)


def _choices(values: tuple[str, ...], allowed: tuple[str, ...], where: str) -> tuple[str, ...]:
    bad = [value for value in values if value not in allowed]
    if bad:
        raise PolicyError(f"{where} has unknown value(s) {bad}; choose from {', '.join(allowed)}")
    return values


def parse_targets(raw: Mapping[str, Any], where: str) -> dict[str, Targets]:
    if not isinstance(raw, Mapping) or not raw:
        raise PolicyError(f"{where} is missing or empty; give targets per priority, like [{where}.high] resolution = \"8h\"")
    parsed = {}
    for priority, metrics in raw.items():
        if not isinstance(metrics, Mapping):
            raise PolicyError(f"{where}.{priority} must be a table of metric = duration")
        unknown = sorted(set(metrics) - set(METRICS))
        if unknown:
            raise PolicyError(f"{where}.{priority} has unknown metric(s) {unknown}; use {', '.join(METRICS)}")
        values = {metric: parse_duration(metrics[metric], f"{where}.{priority}.{metric}") for metric in metrics}
        parsed[str(priority)] = Targets(**values)
    return parsed


def parse_escalation(raw: Mapping[str, Any], where: str, actions: Iterable[str]) -> Escalation:
    allowed_actions = tuple(actions)
    trigger = raw.get("on")
    if trigger not in ESCALATION_TRIGGERS:
        raise PolicyError(f"{where}.on = {trigger!r} is invalid; use one of {', '.join(ESCALATION_TRIGGERS)}")
    action = raw.get("action")
    if action not in allowed_actions:
        raise PolicyError(f"{where}.action = {action!r} is unknown; use one of {', '.join(allowed_actions)}")
    metric = raw.get("metric")
    if metric is not None and metric not in METRICS:
        raise PolicyError(f"{where}.metric = {metric!r} is unknown; use one of {', '.join(METRICS)}")
    share = raw.get("share")
    if share is not None and not (isinstance(share, (int, float)) and 0 < float(share) < 1):
        raise PolicyError(f"{where}.share = {share!r} must be a number between 0 and 1, like 0.75")
    unknown = sorted(set(raw) - {"on", "action", "metric", "share", "to"})
    if unknown:
        raise PolicyError(f"{where} has unknown key(s) {unknown}; use on, action, metric, share, to")
    target = raw.get("to")
    if target is not None and not _valid_recipient(target):
        raise PolicyError(
            f"{where}.to = {target!r} is invalid; use assignee, reporter, queue_manager, user:<username> or role:<{'|'.join(ROLE_NAMES)}>"
        )
    return Escalation(on=trigger, action=action, metric=metric, share=float(share) if share is not None else None, to=target)


def _valid_recipient(target: Any) -> bool:
    """Check a notify escalation's `to`: the forms the notify plugin resolves to people."""
    if not isinstance(target, str):
        return False
    if target in ("assignee", "reporter", "queue_manager"):
        return True
    prefix, colon, value = target.partition(":")
    if prefix == "user":
        return bool(colon and value.strip())
    return prefix == "role" and value in ROLE_NAMES


def parse_policy(raw: Mapping[str, Any], index: int, actions: Iterable[str] = BUILTIN_ACTIONS) -> Policy:
    """Parse one `[[plugins.sla.policies]]` table; `index` is its position, for messages."""
    where = f"plugins.sla.policies[{index}]"
    known = {
        "key", "name", "queues", "tenants", "calendar", "warn_at", "pause_categories", "first_response_stop",
        "resolution_stop", "on_priority_change", "targets", "escalations",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise PolicyError(f"{where} has unknown key(s) {unknown}; see docs/sla.md for the policy keys")
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise PolicyError(f"{where}.key is missing; give each policy a short unique key, like \"it-standard\"")
    where = f"plugins.sla.policies[{key}]"

    warn_at = tuple(float(share) for share in raw.get("warn_at", (0.75,)))
    if any(not (0 < share < 1) for share in warn_at):
        raise PolicyError(f"{where}.warn_at = {list(warn_at)} must hold shares between 0 and 1, like [0.5, 0.75]")

    mode = raw.get("on_priority_change", "recompute")
    if mode not in PRIORITY_CHANGE_MODES:
        raise PolicyError(f"{where}.on_priority_change = {mode!r} is invalid; use recompute or restart")

    escalations_raw = raw.get("escalations", [])
    if not isinstance(escalations_raw, list):
        raise PolicyError(f"{where}.escalations must be a list of tables")
    escalations = tuple(
        parse_escalation(item, f"{where}.escalations[{position}]", actions) for position, item in enumerate(escalations_raw)
    )

    return Policy(
        key=key,
        name=str(raw.get("name", key)),
        targets=parse_targets(raw.get("targets", {}), f"{where}.targets"),
        queues=_strings(raw.get("queues", ["*"]), f"{where}.queues"),
        tenants=_strings(raw.get("tenants", ["*"]), f"{where}.tenants"),
        calendar=str(raw.get("calendar", "china")),
        warn_at=tuple(sorted(warn_at)),
        pause_categories=_choices(_strings(raw.get("pause_categories", ["waiting"]), f"{where}.pause_categories"), STATE_CATEGORIES, f"{where}.pause_categories"),
        first_response_stop=_choices(
            _strings(raw.get("first_response_stop", ["public_reply"]), f"{where}.first_response_stop"),
            FIRST_RESPONSE_STOPS,
            f"{where}.first_response_stop",
        ),
        resolution_stop=_choices(
            _strings(raw.get("resolution_stop", ["resolved", "closed"]), f"{where}.resolution_stop"),
            STATE_CATEGORIES,
            f"{where}.resolution_stop",
        ),
        on_priority_change=mode,
        escalations=escalations,
    )
