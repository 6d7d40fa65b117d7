"""The `[plugins.sla]` table and the calendars and policies built from it.

Policies and calendars are free-form tables checked by `wenti_sla.policy` and
`build_calendars`, which name the exact key and the fix in their errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import attrs

from wenti_sla.calendar import CalendarError, WorkCalendar, parse_day, parse_intervals, week_from_mapping
from wenti_sla.policy import BUILTIN_ACTIONS, Policy, parse_policy


@attrs.define
class SlaConfig:
    """Settings of the SLA plugin; see `docs/sla.md` for a full example.

    `system_user` is the actor name written on SLA events and escalations.
    `preset = "standard"` adds the built-in policy `STANDARD_POLICY` after the
    configured ones, so an instance gets SLA clocks on every queue with one line.
    """

    system_user: str = "sla"
    preset: str = "none"
    calendars: dict[str, dict[str, Any]] = attrs.Factory(dict)
    policies: list[dict[str, Any]] = attrs.Factory(list)


CALENDAR_KEYS = {"base", "timezone", "hours", "weekdays", "makeup_hours", "closed_days", "working_days"}

# A holiday source is what a `register_calendars` factory returns: a mapping with
# `holidays` and `workdays` ({date: name}), `covered_years` ((first, last) or None),
# `timezone` (the default zone) and `source` (a label such as a package and version).
HolidaySource = Mapping[str, Any]


def _days(raw: Any, where: str) -> dict[date, str]:
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return {parse_day(day): str(name) for day, name in raw.items()}
    if isinstance(raw, list):
        return {parse_day(day): "" for day in raw}
    raise CalendarError(f"{where} = {raw!r} must be a list of dates or a table of date = \"name\"")


def build_calendar(name: str, raw: Mapping[str, Any], sources: Mapping[str, Callable[[], HolidaySource]]) -> WorkCalendar:
    """Build the calendar `[plugins.sla.calendars.<name>]` on its `base` holiday source."""
    where = f"plugins.sla.calendars.{name}"
    unknown = sorted(set(raw) - CALENDAR_KEYS)
    if unknown:
        raise CalendarError(f"{where} has unknown key(s) {unknown}; use {', '.join(sorted(CALENDAR_KEYS))}")
    base = str(raw.get("base", "china"))
    if base not in sources:
        raise CalendarError(f"{where}.base = {base!r} is not an installed calendar; installed: {', '.join(sorted(sources))}")
    source = sources[base]()

    if "hours" in raw and "weekdays" in raw:
        raise CalendarError(f"{where} sets both hours and weekdays; use hours for per-weekday times or weekdays for Monday to Friday")
    if "hours" in raw:
        week = week_from_mapping(raw["hours"])
    else:
        week = week_from_mapping({}, default=raw.get("weekdays", ["09:00-18:00"]))
    makeup = raw.get("makeup_hours")

    return WorkCalendar(
        name,
        str(raw.get("timezone", source.get("timezone", "Asia/Shanghai"))),
        week,
        holidays=source.get("holidays", {}),
        workdays=source.get("workdays", {}),
        closed_days=_days(raw.get("closed_days"), f"{where}.closed_days"),
        working_days=_days(raw.get("working_days"), f"{where}.working_days"),
        makeup_hours=parse_intervals(makeup) if makeup is not None else None,
        covered_years=source.get("covered_years"),
        source=str(source.get("source", base)),
    )


def build_calendars(config: SlaConfig, sources: Mapping[str, Callable[[], HolidaySource]]) -> dict[str, WorkCalendar]:
    """Build every configured calendar, plus each installed source under its own name with default hours."""
    calendars = {name: build_calendar(name, {"base": name}, sources) for name in sources}
    for name, raw in config.calendars.items():
        calendars[name] = build_calendar(name, raw, sources)
    return calendars


# The policy `preset = "standard"` adds: every queue, China's calendar with 09:00-18:00
# Monday to Friday, targets by priority, a warning at 75 % and escalation on breach.
STANDARD_POLICY: dict[str, Any] = {
    "key": "standard",
    "name": "Standard",
    "calendar": "china",
    "warn_at": [0.75],
    "targets": {
        "critical": {"first_response": "30m", "resolution": "4h"},
        "high": {"first_response": "1h", "resolution": "8h"},
        "normal": {"first_response": "4h", "resolution": "24h"},
        "low": {"first_response": "8h", "resolution": "40h"},
    },
    "escalations": [
        {"on": "warning", "action": "notify", "to": "assignee"},
        {"on": "breached", "action": "notify", "to": "role:queue_manager"},
        {"on": "breached", "metric": "resolution", "action": "raise_priority"},
    ],
}

PRESETS = {"none": [], "standard": [STANDARD_POLICY]}


def build_policies(config: SlaConfig, calendars: Mapping[str, WorkCalendar]) -> list[Policy]:
    if config.preset not in PRESETS:
        raise CalendarError(f"plugins.sla.preset = {config.preset!r} is unknown; use one of {', '.join(PRESETS)}")
    raw_policies = list(config.policies) + list(PRESETS[config.preset])
    policies = [parse_policy(raw, index, BUILTIN_ACTIONS) for index, raw in enumerate(raw_policies)]
    keys = [policy.key for policy in policies]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise CalendarError(f"plugins.sla.policies has duplicate key(s) {duplicates}; give each policy its own key")
    for policy in policies:
        if policy.calendar not in calendars:
            raise CalendarError(
                f"plugins.sla.policies[{policy.key}].calendar = {policy.calendar!r} is unknown; "
                f"define [plugins.sla.calendars.{policy.calendar}] or use one of {', '.join(sorted(calendars))}"
            )
    return policies
