"""Shared state of one command run: the global options, the app built on first use, the acting user."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wenti.i18n import _, normalize_locale, set_locale

if TYPE_CHECKING:
    from wenti.app import App, Context
    from wenti.config import Config
    from wenti.plugins import PluginHost

log = logging.getLogger(__name__)

DEFAULT_TENANT = "default"
DEFAULT_USER = "admin"
ENV_TENANT = "WENTI_TENANT"
ENV_USER = "WENTI_USER"
ENV_LANG = "WENTI_LANG"


class CliState:
    """The global options and the objects built from them, each built once per run.

    Loading the configuration and the plugins is deferred until a command needs
    them, so `wenti init` and `wenti --help` work without an instance.
    """

    def __init__(self, config_path: str | None, tenant: str | None, username: str | None, lang: str | None) -> None:
        self.config_path = config_path
        self.tenant = tenant or os.environ.get(ENV_TENANT) or DEFAULT_TENANT
        self.username = username or os.environ.get(ENV_USER) or DEFAULT_USER
        self.lang = lang or os.environ.get(ENV_LANG)
        self._config: Config | None = None
        self._host: PluginHost | None = None
        self._app: App | None = None
        self._context: Context | None = None
        self._owns_app = True
        # Cleared when the command was stopped with Ctrl-C or delivered events itself;
        # close() then delivers nothing.
        self.deliver_at_exit = True
        if self.lang:
            set_locale(self.lang)

    def apply_options(self, config_path: str | None, tenant: str | None, username: str | None, lang: str | None) -> None:
        """Override settings with the global options that were given."""
        if config_path:
            self.config_path = config_path
        if tenant:
            self.tenant = tenant
        if username:
            self.username = username
        if lang:
            self.lang = lang
            set_locale(lang)

    def config(self) -> Config:
        if self._config is None:
            from wenti.config import load_config

            self._config = load_config(self.config_path)
            if not self.lang:
                set_locale(self._config.instance.locale)
        return self._config

    def plugin_host(self) -> PluginHost:
        if self._host is None:
            from wenti.plugins import load_plugins

            config = self.config()
            self._host = load_plugins(config)
            config.validate_plugin_tables(self._host)
        return self._host

    def app(self) -> App:
        if self._app is None:
            from wenti.app import App

            config = self.config()
            if config.path is None:
                # Without a file the defaults point at ./wenti.db, and opening it would
                # leave a stray database in whatever folder the command ran in.
                from wenti.config import CONFIG_FILENAME, ENV_CONFIG
                from wenti.errors import ConfigError
                from wenti.i18n import N_

                raise ConfigError(
                    N_(
                        "No configuration file: no --config option, no ${variable} and no {file} in {folder}. "
                        "Run wenti init to create an instance here, or pass --config with the path of its {file}."
                    ),
                    variable=ENV_CONFIG,
                    file=CONFIG_FILENAME,
                    folder=str(Path.cwd()),
                )
            self._app = App.create(config=config, plugin_host=self.plugin_host())
        return self._app

    def context(self) -> Context:
        """Build the acting user's context in the chosen tenant and switch to the user's language."""
        if self._context is None:
            locale = normalize_locale(self.lang) if self.lang else None
            self._context = self.app().context(self.tenant, self.username, locale)
            set_locale(self._context.locale)
        return self._context

    def adopt(self, app: App, owned: bool = True) -> None:
        """Use an app built elsewhere (`wenti init`, tests); close it at the end only if `owned`."""
        self._app = app
        self._config = app.config
        self._host = app.plugins
        self._owns_app = owned

    def close(self) -> None:
        """Deliver the events this run produced, then close the app if this run built it.

        Delivery stops after `EXIT_DELIVERY_SECONDS` and is skipped when
        `deliver_at_exit` is off. What is left waits in the outbox, and a note on
        standard error tells the user how to deliver it.
        """
        if self._app is not None and self._owns_app:
            try:
                if self.deliver_at_exit:
                    deliver_pending_events(self._app, EXIT_DELIVERY_SECONDS)
                if self._app.outbox.has_due():
                    click.echo(
                        _("Some events are still waiting for delivery to plugins. `wenti serve` delivers them while it runs, or run: wenti outbox deliver"),
                        err=True,
                    )
            finally:
                self._app.close()
        self._app = None


# Seconds a command spends at exit delivering the events it produced. A large import
# produces one event per issue; the rest waits for `wenti serve` or `wenti outbox deliver`.
EXIT_DELIVERY_SECONDS = 10.0

# Messages per tenant in one dispatch round, so the time limit is checked often.
DISPATCH_ROUND_LIMIT = 100


def deliver_pending_events(app: App, max_seconds: float | None = None) -> int:
    """Deliver due outbox messages until none is due or `max_seconds` have passed (None: no limit).

    Failed deliveries are rescheduled by the dispatcher and stay in the outbox for
    the next run or for `wenti serve`. Returns the number delivered.
    """
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    delivered = 0
    while True:
        count = app.outbox.dispatch_pending(limit=DISPATCH_ROUND_LIMIT)
        delivered += count
        if count == 0 or (deadline is not None and time.monotonic() >= deadline):
            break
    if delivered:
        log.info("delivered %d outbox messages", delivered)
    return delivered


def get_state() -> CliState:
    return click.get_current_context().find_object(CliState)


pass_state = click.make_pass_decorator(CliState)


def resolve_path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None
