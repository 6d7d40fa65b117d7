"""Plugin loading: entry points of the group `wenti`, guarded one plugin at a time.

`load_plugins(config)` builds a `PluginHost`:

1. A pluggy `PluginManager("wenti")` with the specs of `wenti.hookspecs`.
2. Plugins named in `[plugins] disabled` or `$WENTI_DISABLE_PLUGINS` are blocked
   before anything is imported. When `$WENTI_LOAD_PLUGINS` (or else `[plugins]
   enabled`) is set, only the listed plugins load; `WENTI_LOAD_PLUGINS=` with an
   empty value loads none.
3. Each entry point is loaded on its own, in name order. Distributions are
   deduplicated by normalized name, because some editable installs list one twice.
   A plugin fails and is skipped when:
   - its module does not import;
   - its `wenti_api_version` differs from `wenti.API_VERSION`;
   - pluggy rejects its hook implementations, including a hook name that no spec
     declares (`check_pending()` catches those);
   - a registration hook returns a name that another plugin already registered.
   With `strict` on, the first failure raises `PluginError` instead.
4. The built-in defaults (`wenti.builtin`) register last, so their
   implementations are called first among those without `tryfirst`/`trylast`.
5. One INFO line lists the loaded, disabled and failed plugins with versions.

`WENTI_TRACE_HOOKS=1` logs every hook call and its result to the `wenti.trace` logger.
`WENTI_STRICT_PLUGINS=1` turns strict loading on, as `[plugins] strict = true` does;
the `wenti.testing` pytest plugin sets it for every test run.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import re
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from wenti import hookspecs
from wenti.config import (
    ENV_DISABLE_PLUGINS,
    ENV_LOAD_PLUGINS,
    ENV_STRICT_PLUGINS,
    ENV_TRACE_HOOKS,
    Text,
    env_plugin_list,
)
from wenti.errors import PluginError
from wenti.hooks import Hooks, registration_hooks
from wenti.i18n import N_

if TYPE_CHECKING:
    from wenti.config import Config

log = logging.getLogger(__name__)
trace_log = logging.getLogger("wenti.trace")

ENTRY_POINT_GROUP = "wenti"
BUILTIN_PLUGINS: tuple[str, ...] = ("wenti.builtin",)

ACTIVE = "active"
DISABLED = "disabled"
FAILED = "failed"


@attrs.define
class PluginStatus:
    """One plugin as `wenti plugins list` shows it.

    `status` is `active`, `disabled` or `failed`. `error` is the reason a plugin
    failed or was disabled. `hooks` are the names of the hooks it implements.
    """

    name: str
    distribution: str | None
    version: str | None
    status: str
    error: str | None = None
    hooks: tuple[str, ...] = ()
    builtin: bool = False

    def label(self) -> str:
        """`name (distribution version)`, the form used in logs and errors."""
        if self.distribution is None:
            return self.name
        return f"{self.name} ({self.distribution} {self.version})"


class PluginHost:
    """The plugin manager, the typed `hooks` facade and the status of every plugin."""

    def __init__(self, pm: pluggy.PluginManager, statuses: list[PluginStatus] | None = None) -> None:
        self.pm = pm
        self.statuses: list[PluginStatus] = list(statuses or [])
        self.hooks = Hooks(pm, describe_plugin=self.describe)

    def status(self, name: str) -> PluginStatus | None:
        return next((status for status in self.statuses if status.name == name), None)

    def describe(self, name: str) -> str:
        status = self.status(name)
        return status.label() if status is not None else name

    def active_names(self) -> list[str]:
        return [status.name for status in self.statuses if status.status == ACTIVE]

    def register(self, plugin: Any, name: str) -> PluginStatus:
        """Register an object or module as a plugin (tests, embedded use).

        Raises `PluginError` when pluggy rejects it or a hook name has no spec.
        Record-name conflicts are reported when the registration hook is called.
        """
        if self.pm.is_blocked(name):
            # An explicit registration overrides a name blocked by configuration.
            self.pm.unblock(name)
        try:
            self.pm.register(plugin, name)
            self.pm.check_pending()
        except (ValueError, pluggy.PluginValidationError) as error:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            raise PluginError(plugin=name, dist="registered in process", version="-", error=str(error)) from error

        status = PluginStatus(name, None, None, ACTIVE, hooks=_hook_names(self.pm, plugin))
        self.statuses = [existing for existing in self.statuses if existing.name != name]
        self.statuses.append(status)
        return status

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin, name)
        self.statuses = [status for status in self.statuses if status.name != name]


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def load_plugins(
    config: Config,
    *,
    strict: bool | None = None,
    distributions: Iterable[importlib.metadata.Distribution] | None = None,
    builtins: bool = True,
) -> PluginHost:
    """Load the plugins installed in the environment into a new `PluginHost`.

    `strict` overrides `[plugins] strict` and `$WENTI_STRICT_PLUGINS`; when it is
    None, either of those switches strict loading on. `distributions` replaces the
    installed distributions (tests pass `importlib.metadata.distributions(path=[...])`).
    `builtins=False` leaves out `wenti.builtin`.

    Raises `PluginError` in strict mode when any plugin fails to load.
    """
    if strict is None:
        strict = config.plugins.strict or _env_flag(ENV_STRICT_PLUGINS)
    host = PluginHost(new_plugin_manager())

    disabled = set(config.plugins.disabled) | set(env_plugin_list(ENV_DISABLE_PLUGINS) or [])
    allowlist = env_plugin_list(ENV_LOAD_PLUGINS)
    if allowlist is None:
        allowlist = config.plugins.enabled

    builtin_modules = [importlib.import_module(name) for name in BUILTIN_PLUGINS] if builtins else []
    # Built-in record names are claimed first, although the modules register last,
    # so a plugin cannot take over a built-in's name.
    owners: dict[tuple[str, str], str] = {}
    for module in builtin_modules:
        _claim_names(host, module, module.__name__, owners)

    for entry_point, dist_name, version in _entry_points(distributions):
        status = _load_one(host, entry_point, dist_name, version, disabled, allowlist, owners, strict)
        host.statuses.append(status)

    for module in builtin_modules:
        host.pm.register(module, module.__name__)
        host.statuses.append(
            PluginStatus(module.__name__, "wenti-core", _core_version(), ACTIVE, hooks=_hook_names(host.pm, module), builtin=True)
        )
    host.pm.check_pending()

    if _env_flag(ENV_TRACE_HOOKS):
        _enable_tracing(host.pm)
        host.hooks.trace = True

    log.info("plugins: %s", _summary(host.statuses))
    return host


def _entry_points(
    distributions: Iterable[importlib.metadata.Distribution] | None,
) -> list[tuple[importlib.metadata.EntryPoint, str, str]]:
    """List the `wenti` entry points with their distribution's name and version, by name.

    A distribution seen twice under the same normalized name is read once.
    """
    if distributions is None:
        # Reading only entry_points.txt first avoids parsing the METADATA of every
        # installed distribution; only distributions that declare plugins are read.
        candidates = [ep.dist for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.dist is not None]
    else:
        candidates = list(distributions)

    seen: set[str] = set()
    found: list[tuple[importlib.metadata.EntryPoint, str, str]] = []
    for dist in candidates:
        dist_name = dist.metadata["Name"] or "unknown"
        normalized = re.sub(r"[-_.]+", "-", dist_name).lower()
        if normalized in seen:
            continue
        seen.add(normalized)
        for entry_point in dist.entry_points:
            if entry_point.group == ENTRY_POINT_GROUP:
                found.append((entry_point, dist_name, dist.version))
    found.sort(key=lambda item: item[0].name)
    return found


def _load_one(
    host: PluginHost,
    entry_point: importlib.metadata.EntryPoint,
    dist_name: str,
    version: str,
    disabled: set[str],
    allowlist: list[str] | None,
    owners: dict[tuple[str, str], str],
    strict: bool,
) -> PluginStatus:
    name = entry_point.name
    status = PluginStatus(name, dist_name, version, ACTIVE)

    if name in disabled:
        host.pm.set_blocked(name)
        status.status, status.error = DISABLED, Text(N_("disabled in configuration"))
        return status
    if allowlist is not None and name not in allowlist:
        host.pm.set_blocked(name)
        status.status, status.error = DISABLED, Text(N_("not in the enabled list"))
        return status
    if host.pm.get_plugin(name) is not None:
        return _fail(status, Text(N_("another distribution already registered a plugin named {plugin}"), plugin=name), strict)

    try:
        module = entry_point.load()
    except Exception as error:
        log.debug("import of plugin %s failed", name, exc_info=True)
        failure = Text(N_("import of {module} failed: {error}"), module=entry_point.value, error=f"{type(error).__name__}: {error}")
        return _fail(status, failure, strict)

    declared = getattr(module, "wenti_api_version", None)
    if declared is not None and str(declared) != str(_api_version()):
        return _fail(
            status,
            Text(
                N_(
                    "it declares wenti_api_version {declared!r} but this wenti-core provides API version {api}; "
                    "install a version of {dist} made for it"
                ),
                declared=declared,
                api=_api_version(),
                dist=dist_name,
            ),
            strict,
        )

    try:
        host.pm.register(module, name)
        # Earlier plugins passed this check, so anything pending now is this plugin's.
        host.pm.check_pending()
    except (ValueError, pluggy.PluginValidationError) as error:
        if host.pm.is_registered(module):
            host.pm.unregister(module)
        return _fail(status, str(error), strict)

    try:
        _claim_names(host, module, name, owners)
    except PluginError as error:
        host.pm.unregister(module)
        return _fail(status, error.params.get("error", str(error)), strict)
    except Exception as error:
        host.pm.unregister(module)
        return _fail(status, Text(N_("a registration hook raised {error}"), error=f"{type(error).__name__}: {error}"), strict)

    status.hooks = _hook_names(host.pm, module)
    return status


def _claim_names(host: PluginHost, plugin: Any, name: str, owners: dict[tuple[str, str], str]) -> None:
    """Call the plugin's registration hooks and reserve each record name it returns.

    Raises `PluginError` naming both plugins when a name is taken; nothing is
    reserved then.
    """
    claimed: list[tuple[str, str]] = []
    for hook_name, record_type, function, argnames in _registration_impls(plugin):
        if argnames:
            continue
        for record in _as_records(function()):
            record_name = getattr(record, "name", None)
            if not isinstance(record, record_type) or not isinstance(record_name, str):
                raise PluginError(
                    plugin=name,
                    dist="-",
                    version="-",
                    error=Text(
                        N_("{hook} returned {value!r}; expected wenti.records.{kind} records"),
                        hook=hook_name,
                        value=record,
                        kind=record_type.__name__,
                    ),
                )
            key = (hook_name, record_name)
            if key in owners or key in claimed:
                other = owners.get(key, name)
                raise PluginError(
                    plugin=name,
                    dist="-",
                    version="-",
                    error=Text(
                        N_("{hook} registers {kind} {name!r}, which plugin {other} already registers"),
                        hook=hook_name,
                        kind=record_type.__name__,
                        name=record_name,
                        other=host.describe(other),
                    ),
                )
            claimed.append(key)
    for key in claimed:
        owners[key] = name


def _registration_impls(plugin: Any) -> list[tuple[str, type, Any, tuple[str, ...]]]:
    """Find the plugin's registration hook implementations the way pluggy does.

    A scratch plugin manager parses the markers, so `specname` and plugins that are
    class instances work the same as in the real one.
    """
    scratch = new_plugin_manager()
    scratch.register(plugin, "scratch")
    found = []
    for hook_name, (record_type, spec_argnames) in registration_hooks().items():
        if spec_argnames:
            # Hooks such as register_web_routes need the running app; their
            # records are checked when the app calls them.
            continue
        for impl in getattr(scratch.hook, hook_name).get_hookimpls():
            found.append((hook_name, record_type, impl.function, tuple(impl.argnames)))
    return found


def _as_records(result: Any) -> list[Any]:
    if result is None:
        return []
    if isinstance(result, (list, tuple)):
        return list(result)
    return [result]


def _fail(status: PluginStatus, error: str, strict: bool) -> PluginStatus:
    status.status, status.error = FAILED, error
    if strict:
        raise PluginError(plugin=status.name, dist=status.distribution, version=status.version, error=error)
    log.warning("plugin %s skipped: %s", status.label(), error)
    return status


def _hook_names(pm: pluggy.PluginManager, plugin: Any) -> tuple[str, ...]:
    callers = pm.get_hookcallers(plugin) or []
    return tuple(sorted(caller.name for caller in callers))


def _summary(statuses: list[PluginStatus]) -> str:
    def names(kind: str) -> str:
        selected = [status for status in statuses if status.status == kind]
        if not selected:
            return "none"
        return ", ".join(f"{status.name} {status.version}" if status.version else status.name for status in selected)

    return f"loaded {names(ACTIVE)}; disabled {names(DISABLED)}; failed {names(FAILED)}"


def _enable_tracing(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        plugins = ", ".join(impl.plugin_name for impl in impls) or "no implementations"
        trace_log.info("call %s(%s) -> %s", hook_name, ", ".join(sorted(kwargs)), plugins)

    def after(outcome: Any, hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        if outcome.exception is not None:
            trace_log.info("%s raised %s: %s", hook_name, type(outcome.exception).__name__, outcome.exception)
        else:
            trace_log.info("%s returned %r", hook_name, outcome.get_result())

    pm.add_hookcall_monitoring(before, after)
    log.info("hook tracing is on (%s); calls are logged to the wenti.trace logger", ENV_TRACE_HOOKS)


def _env_flag(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() not in ("", "0", "false", "no")


def _api_version() -> int:
    import wenti

    return wenti.API_VERSION


def _core_version() -> str:
    import wenti

    return wenti.__version__
