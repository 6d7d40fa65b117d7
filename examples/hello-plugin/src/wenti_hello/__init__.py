"""wenti-hello: the example plugin of the plugin author guide.

It routes a new issue without a queue to the queue whose keyword appears in the
title (`[plugins.hello] routes`), logs each created issue once, and adds the
`wenti hello` command, which prints the routes in the user's language.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs
import click

from wenti import hookimpl
from wenti.i18n import Domain
from wenti.records import CliCommand, PluginConfig

# The loader skips this plugin when the installed wenti-core offers another API version.
wenti_api_version = 1

log = logging.getLogger(__name__)
_ = Domain("wenti_hello", Path(__file__).parent / "locale").gettext


@attrs.define
class HelloConfig:
    """The `[plugins.hello]` table: `routes` maps a title keyword to a queue key."""

    routes: dict[str, str] = attrs.Factory(dict)
    log_created: bool = True


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    return [PluginConfig(name="hello", config_class=HelloConfig)]


@hookimpl
def select_queue(issue: Any, app: Any) -> str | None:
    config: HelloConfig = app.plugin_config("hello")
    title = issue.title.lower()
    for keyword, queue in config.routes.items():
        if keyword.lower() in title:
            return queue
    return None


# Event ids already logged by this process; deliveries may repeat after a crash.
_logged_events: set[str] = set()


@hookimpl
def issue_event(event: Any, app: Any) -> None:
    if event.type != "issue.created" or event.id in _logged_events:
        return
    if app.plugin_config("hello").log_created:
        log.info("issue %s created by %s in tenant %s", event.issue_id, event.actor, event.tenant_id)
    _logged_events.add(event.id)


@click.command("hello")
def hello_command() -> None:
    """Print the keyword routes of the hello plugin."""
    from wenti.cli.state import get_state

    state = get_state()
    # Loading the plugins validates the [plugins.<name>] tables against their classes.
    state.plugin_host()
    config: HelloConfig = state.config().plugin("hello")
    click.echo(_("Hello from wenti-hello."))
    if not config.routes:
        click.echo(_("No routes are configured. Add them under [plugins.hello] routes in wenti.toml."))
        return
    for keyword, queue in sorted(config.routes.items()):
        click.echo(_("Titles containing {keyword!r} go to queue {queue}.").format(keyword=keyword, queue=queue))


@hookimpl
def register_commands() -> list[CliCommand]:
    return [CliCommand(name="hello", command=hello_command)]
