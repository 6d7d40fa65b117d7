"""wenti webhooks: outbound webhooks signed the Standard Webhooks way.

Registers the `webhook` notification channel. The notify plugin (wenti-notify)
queues one delivery per subscribed endpoint and retries it; this plugin signs and
sends it, logs every attempt, and disables an endpoint that answers 410.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wenti import hookimpl
from wenti.records import AdminView, CliCommand, Notifier, PluginConfig, SqlSchema

from wenti_webhooks.channel import channel
from wenti_webhooks.config import Endpoint, WebhooksConfig
from wenti_webhooks.schema import metadata
from wenti_webhooks.signing import new_secret, sign_headers, verify

__all__ = ["Endpoint", "WebhooksConfig", "new_secret", "sign_headers", "verify"]


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    return [PluginConfig(name="webhooks", config_class=WebhooksConfig)]


@hookimpl
def register_sql_schemas() -> list[SqlSchema]:
    migrations = Path(__file__).parent / "migrations" / "versions"
    return [SqlSchema(name="webhooks", metadata=metadata, migrations=str(migrations), branch="webhooks")]


@hookimpl
def register_notifiers() -> list[Notifier]:
    return [Notifier(name="webhook", send=channel)]


@hookimpl
def register_commands() -> list[CliCommand]:
    from wenti_webhooks.cli import webhooks_group

    return [CliCommand(name="webhooks", command=webhooks_group)]


@hookimpl
def register_admin_views() -> list[AdminView]:
    from wenti_webhooks.admin_view import attempts_view

    return [attempts_view()]


@hookimpl
def shutdown(app: Any) -> None:
    channel.close()
