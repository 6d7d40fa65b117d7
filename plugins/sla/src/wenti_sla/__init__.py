"""wenti-sla: SLA clocks on business calendars that know China's holidays and 调休.

The plugin registers the calendars `china` (official holidays and make-up workdays
from the `chinesecalendar` package) and `plain` (working hours only), its tables,
the periodic job `sla.check` that announces warnings and breaches, and the
`wenti sla` commands. Clocks are refreshed from history whenever an issue event is
delivered. `service_for(app)` returns the running `SlaService`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from wenti import hookimpl
from wenti.errors import ConfigError
from wenti.records import BusinessCalendar, CliCommand, PluginConfig, ScheduledJob, SqlSchema

from wenti_sla.calendar import CalendarError
from wenti_sla.china import china_source, plain_source
from wenti_sla.config import SlaConfig, build_calendars, build_policies
from wenti_sla.policy import PolicyError
from wenti_sla.service import SlaService

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"

# The warning and breach check runs every minute, so a notice is at most a minute late.
CHECK_CRON = "* * * * *"

_SERVICES: dict[int, SlaService] = {}


def service_for(app: Any) -> SlaService:
    """Return the SLA service of a running app; raise `LookupError` before `startup` ran."""
    try:
        return _SERVICES[id(app)]
    except KeyError:
        raise LookupError("the SLA plugin has not started for this app; build it with App.create") from None


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    # A new instance starts with the standard policy on every queue, so due times
    # show from the first issue; docs/sla.md says how to replace it.
    return [PluginConfig(name="sla", config_class=SlaConfig, template='preset = "standard"')]


@hookimpl
def register_sql_schemas() -> list[SqlSchema]:
    from wenti_sla.tables import metadata

    return [SqlSchema(name="sla", metadata=metadata, migrations=str(MIGRATIONS), branch="sla")]


@hookimpl
def register_calendars() -> list[BusinessCalendar]:
    return [BusinessCalendar(name="china", factory=china_source), BusinessCalendar(name="plain", factory=plain_source)]


def _check_job(app: Any, payload: dict[str, Any]) -> None:
    service_for(app).check_due()


def _recompute_job(app: Any, payload: dict[str, Any]) -> None:
    service_for(app).recompute(payload.get("tenants"), from_history=bool(payload.get("from_history")))


@hookimpl
def register_jobs() -> list[ScheduledJob]:
    return [
        ScheduledJob(name="sla.check", run=_check_job, cron=CHECK_CRON),
        ScheduledJob(name="sla.recompute", run=_recompute_job),
    ]


@hookimpl
def register_commands() -> list[CliCommand]:
    from wenti_sla.cli import sla_group

    return [CliCommand(name="sla", command=sla_group)]


@hookimpl
def startup(app: Any) -> None:
    config: SlaConfig = app.plugin_config("sla")
    sources = {record.name: record.factory for record in app.hooks.calendars()}
    try:
        calendars = build_calendars(config, sources)
        policies = build_policies(config, calendars)
    except (CalendarError, PolicyError) as error:
        raise ConfigError("{file}: {problem}", file=app.config.file_label, problem=str(error)) from None
    _SERVICES[id(app)] = SlaService(app, policies, calendars, config.system_user)
    log.info("sla started policies=%s calendars=%s", len(policies), ", ".join(sorted(calendars)))


@hookimpl
def shutdown(app: Any) -> None:
    _SERVICES.pop(id(app), None)


@hookimpl
def issue_event(event: Any, app: Any) -> None:
    if event.type.startswith("sla."):
        return
    service = _SERVICES.get(id(app))
    if service is None or not service.policies:
        return
    service.refresh_issue(event.tenant_id, event.issue_id)


@hookimpl
def register_issue_filters() -> list[Any]:
    from wenti_sla.badges import issue_filters

    return issue_filters(service_for)


@hookimpl
def issue_badges(issues: list[Any], ctx: Any, app: Any) -> list[Any]:
    from wenti_sla.badges import issue_badges as sla_badges

    service = _SERVICES.get(id(app))
    if service is None or not service.policies:
        return []
    return sla_badges(service, issues, ctx)
