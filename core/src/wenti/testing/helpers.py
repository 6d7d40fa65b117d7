"""Builders behind the pytest fixtures, usable without pytest too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wenti.clock import Clock, FrozenClock
from wenti.config import Config, load_config
from wenti.domain import Role
from wenti.plugins import PluginHost, load_plugins

if TYPE_CHECKING:
    from wenti.app import App

# Monday 2 March 2026, 09:00 in Beijing: a working day at the start of office hours.
FROZEN_TIME = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)

# Users created in tenant `default` by `build_app`: (username, display name, role).
TEST_USERS: tuple[tuple[str, str, Role], ...] = (
    ("admin", "管理员", Role.ADMIN),
    ("agent", "处理人", Role.AGENT),
    ("reporter", "提交人", Role.REPORTER),
)


def make_plugin_host(*plugins: Any, data_dir: str | Path | None = None, builtins: bool = True) -> PluginHost:
    """Build a strict `PluginHost` without installed plugins and register `plugins` in it.

    Each plugin is an object or module, or a `(plugin, name)` pair.
    """
    config = Config.default(data_dir)
    host = load_plugins(config, strict=True, distributions=[], builtins=builtins)
    for index, plugin in enumerate(plugins):
        obj, name = plugin if isinstance(plugin, tuple) else (plugin, f"test_plugin_{index}")
        host.register(obj, name)
    return host


def build_app(
    data_dir: str | Path,
    *,
    config_toml: str | None = None,
    config: Config | None = None,
    clock: Clock | None = None,
    plugins: Iterable[Any] = (),
    installed_plugins: bool = True,
    enabled_plugins: Iterable[str] | None = None,
    tenant: str | None = "default",
    users: Iterable[tuple[str, str, Role]] = TEST_USERS,
) -> App:
    """Build an `App` in `data_dir` with strict plugin loading.

    `config_toml` is written to `data_dir/wenti.toml` and loaded; otherwise
    `config` or the defaults for `data_dir` apply. `plugins` are registered (as
    objects, modules or `(plugin, name)` pairs) before `startup` hooks run.
    `installed_plugins=False` loads no entry-point plugins, so there is no storage
    backend unless one of `plugins` provides it. `enabled_plugins=["sql"]` loads
    only the named ones, for tests that must not see other plugins' hooks. With `tenant`, the tenant, its
    default workflow and queue, and `users` are created.
    """
    from wenti.app import App

    data_path = Path(data_dir)
    data_path.mkdir(parents=True, exist_ok=True)
    if config_toml is not None:
        config_file = data_path / "wenti.toml"
        config_file.write_text(config_toml, encoding="utf-8")
        config = load_config(config_file)
    elif config is None:
        config = Config.default(data_path)

    if enabled_plugins is not None:
        config.plugins.enabled = list(enabled_plugins)
    host = load_plugins(config, strict=True, distributions=None if installed_plugins else [])
    for index, plugin in enumerate(plugins):
        obj, name = plugin if isinstance(plugin, tuple) else (plugin, f"test_plugin_{index}")
        host.register(obj, name)
    config.validate_plugin_tables(host)

    app = App.create(config=config, clock=clock or FrozenClock(FROZEN_TIME), plugin_host=host)
    if tenant is not None:
        try:
            _seed_tenant(app, tenant, users)
        except BaseException:
            # The caller never gets the app, so nobody else could close its store.
            app.close()
            raise
    return app


def _seed_tenant(app: App, tenant: str, users: Iterable[tuple[str, str, Role]]) -> None:
    users = list(users)
    admins = [user for user in users if user[2] is Role.ADMIN]
    first_admin = admins[0] if admins else ("admin", "管理员", Role.ADMIN)
    app.admin.ensure_tenant(tenant, tenant, admin_username=first_admin[0], admin_display_name=first_admin[1])

    ctx = app.context(tenant, first_admin[0])
    for username, display_name, role in users:
        if username != first_admin[0]:
            app.admin.create_user(ctx, username, display_name, role)


def write_fake_distribution(
    site_dir: str | Path,
    distribution: str,
    version: str,
    entry_points: Mapping[str, str],
    modules: Mapping[str, str] | None = None,
    group: str = "wenti",
) -> Path:
    """Write an installed-looking distribution (a `.dist-info` folder) into `site_dir`.

    `entry_points` maps entry-point names to module names in `group`; `modules`
    maps module file names (`hello.py`) to their source. Put `site_dir` on
    `sys.path` and pass `importlib.metadata.distributions(path=[site_dir])` to
    `load_plugins` to load exactly these plugins.
    """
    site = Path(site_dir)
    normalized = distribution.replace("-", "_")
    info = site / f"{normalized}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"[{group}]"] + [f"{name} = {target}" for name, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for file_name, source in (modules or {}).items():
        (site / file_name).write_text(source, encoding="utf-8")
    return info
