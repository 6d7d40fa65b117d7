"""The application object: configuration, plugins, store, clock and services wired together.

Everything that runs wenti (the command line, the web app, tests) builds one `App`::

    app = App.create(config_path="wenti.toml")
    ctx = app.context("default", "admin")
    issue = app.issues.create(ctx, queue="it", title="打印机卡纸")
    app.close()

Plugins receive the `App` in hooks and use the same public attributes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs

from wenti.clock import Clock, SystemClock
from wenti.config import Config, load_config
from wenti.domain import User
from wenti.errors import NotFound, PermissionDenied
from wenti.hooks import Hooks
from wenti.i18n import N_
from wenti.plugins import PluginHost, load_plugins
from wenti.store import Store, UnitOfWork

log = logging.getLogger(__name__)


@attrs.frozen
class Context:
    """The acting user with their tenant, language and time zone. Every service call takes one."""

    tenant_id: str
    user: User
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"

    @property
    def username(self) -> str:
        return self.user.username


class App:
    """A running wenti instance. Build it with `App.create`; close it with `close()`."""

    def __init__(self, config: Config, plugins: PluginHost, store: Store, clock: Clock) -> None:
        # Imported here because the services import `Context` from this module.
        from wenti.outbox import OutboxDispatcher
        from wenti.services import AdminService, IssueService
        from wenti.services.reference import ReferenceCache

        self.config = config
        self.plugins = plugins
        self.hooks: Hooks = plugins.hooks
        self.store = store
        self.clock = clock
        self.references = ReferenceCache()
        self.issues = IssueService(self)
        self.admin = AdminService(self)
        self.outbox = OutboxDispatcher(self)
        self._closed = False

    @classmethod
    def create(
        cls,
        config_path: str | Path | None = None,
        *,
        config: Config | None = None,
        clock: Clock | None = None,
        plugin_host: PluginHost | None = None,
        upgrade: bool = True,
    ) -> App:
        """Load the config, the plugins and the store, and run `startup` hooks.

        `config_path` defaults to `$WENTI_CONFIG`, then `./wenti.toml`, then built-in
        defaults. Pass `plugin_host` to use a plugin manager built by a test.
        `upgrade` creates or migrates the schema.
        """
        host = plugin_host
        if config is None:
            config = load_config(config_path, plugin_host=host)
        if host is None:
            host = load_plugins(config)
            config.validate_plugin_tables(host)
        store = host.hooks.open_store(config)
        if upgrade:
            store.upgrade()
        app = cls(config, host, store, clock or SystemClock())
        host.hooks.startup(app)
        return app

    def uow(self, tenant_id: str, *, readonly: bool = False) -> UnitOfWork:
        """Open a new unit of work (one transaction) for one tenant; `readonly` for reads only."""
        return self.store.unit_of_work(tenant_id, readonly=readonly)

    def context(self, tenant_id: str, username: str, locale: str | None = None) -> Context:
        """Build the acting context for `username` in `tenant_id`.

        Raises `NotFound` for an unknown tenant or user and `PermissionDenied` for a
        deactivated user.
        """
        with self.uow(tenant_id) as uow:
            tenant = uow.tenants.get(tenant_id)
            if tenant is None:
                raise NotFound(N_("Tenant {tenant} does not exist. Run `wenti init` or create it first."), tenant=tenant_id)
            user = uow.users.get(username)
        if user is None:
            raise NotFound(N_("User {user} does not exist in tenant {tenant}; check the user name, or ask an admin to create the user."), user=username, tenant=tenant_id)
        if not user.active:
            raise PermissionDenied(N_("User {user} is deactivated."), user=username)
        return Context(
            tenant_id=tenant_id,
            user=user,
            locale=locale or user.locale or tenant.locale,
            timezone=tenant.timezone,
        )

    def plugin_config(self, name: str) -> Any:
        """Return the validated config object of `[plugins.<name>]` (the class's defaults if absent)."""
        return self.config.plugin(name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.outbox.stop()
        self.hooks.shutdown(self)
        self.store.close()
