"""wenti notify: subscriptions, templates and a durable per-channel delivery queue.

The plugin implements the `issue_event` hook: for every committed event it decides
who hears about it, renders the message in each recipient's language and queues
one delivery per channel and recipient. Its dispatcher sends them through the
channels that other plugins register with `register_notifiers` (e-mail, WeCom,
DingTalk, Feishu, webhooks), with retries, backoff and dead letters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wenti import hookimpl
from wenti.records import AdminView, CliCommand, PluginConfig, ScheduledJob, SqlSchema

from wenti_notify.config import NotifyConfig
from wenti_notify.schema import metadata
from wenti_notify.service import NotifyService, service_for

__all__ = ["NotifyConfig", "NotifyService", "service_for"]


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    return [PluginConfig(name="notify", config_class=NotifyConfig)]


@hookimpl
def register_sql_schemas() -> list[SqlSchema]:
    migrations = Path(__file__).parent / "migrations" / "versions"
    return [SqlSchema(name="notify", metadata=metadata, migrations=str(migrations), branch="notify")]


@hookimpl
def register_commands() -> list[CliCommand]:
    from wenti_notify.cli import notify_group

    return [CliCommand(name="notify", command=notify_group)]


@hookimpl
def register_admin_views() -> list[AdminView]:
    from wenti_notify.admin_view import deliveries_view

    return [deliveries_view()]


def _dispatch_job(app: Any, payload: dict[str, Any]) -> None:
    service = service_for(app)
    if service.config.dispatch_by_job and service.channels():
        service.dispatcher().run_until_idle(max_rounds=int(payload.get("max_rounds", 50)))


@hookimpl
def register_jobs() -> list[ScheduledJob]:
    # Every minute through the job runner, for deployments that move work off the
    # web processes. It sends only with `dispatch_by_job = true`, so it does not
    # compete with the in-process thread by default.
    return [ScheduledJob(name="notify.dispatch", run=_dispatch_job, cron="* * * * *")]


@hookimpl
def startup(app: Any) -> None:
    service = service_for(app)
    if service.config.dispatch_in_process:
        service.start()


@hookimpl
def shutdown(app: Any) -> None:
    service_for(app).stop()


@hookimpl
def issue_event(event: Any, app: Any) -> None:
    service_for(app).route_event(event)
