"""The typed facade over the plugin manager's hooks.

Core code calls these methods, never `pm.hook.<name>()`, so every call site is
type-checked and every hook has one place that decides how failures are handled:

* Registration hooks (`storage_backends()`, `notifiers()` ...) call each
  implementation on its own, stamp every record with the implementing plugin's
  name and raise `PluginError` when two plugins register the same name.
* Decision hooks (`select_queue`, `choose_assignee`) return the first non-None result.
* Advisory hooks (`classify_issue`, `similar_issues`) call one implementation at a
  time; an exception is logged with the plugin's name and counts as no opinion.
* `validate_issue_change` fails closed: an exception becomes a veto reason.
* `startup` raises with the plugin's name; `shutdown` logs exceptions and goes on.
* Event hooks are delivered by the outbox dispatcher one implementation at a time
  through `event_hook_impls()` and `call_event_impl()`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import pluggy

from wenti.config import Text, redact_url
from wenti.errors import ConfigError, PluginError
from wenti.i18n import N_
from wenti.records import (
    AdminView,
    BlobStore,
    BusinessCalendar,
    Classifier,
    CliCommand,
    Connector,
    IssueBadge,
    IssueFilter,
    JobRunner,
    Metric,
    Notifier,
    PluginConfig,
    ReportGenerator,
    ScheduledJob,
    SearchBackend,
    SlaPolicyType,
    SqlSchema,
    StorageBackend,
    Suggestion,
    TemplateBlock,
    WebNavEntry,
    WebRoute,
)

if TYPE_CHECKING:
    from wenti.app import App, Context
    from wenti.config import Config
    from wenti.domain import Issue, User
    from wenti.store import Store

log = logging.getLogger(__name__)
trace_log = logging.getLogger("wenti.trace")

R = TypeVar("R")

@functools.cache
def registration_hooks() -> dict[str, tuple[type, tuple[str, ...]]]:
    """Map every `register_*` hook spec to its record type and argument names.

    The record type is read from the spec's return annotation (`list[Notifier]`)
    and looked up in `wenti.records`, so a registration hook added to the specs is
    checked for name conflicts without a change here.
    """
    import inspect

    from wenti import hookspecs, records

    found: dict[str, tuple[type, tuple[str, ...]]] = {}
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        if not name.startswith("register_") or not hasattr(function, f"{hookspecs.PROJECT}_spec"):
            continue
        annotation = str(inspect.signature(function).return_annotation)
        match = _LIST_OF.match(annotation)
        record_type = getattr(records, match.group(1), None) if match else None
        if not isinstance(record_type, type):
            raise PluginError(
                N_("Hook spec {hook} must be annotated to return list[<a class of wenti.records>], not {annotation}."),
                hook=name,
                annotation=annotation,
            )
        found[name] = (record_type, tuple(inspect.signature(function).parameters))
    return found


_LIST_OF = re.compile(r"^list\[(\w+)\]$")


class Hooks:
    """One checked method per hook. Build it through `wenti.plugins.PluginHost`.

    `describe_plugin(name)` returns a label such as `sla (wenti-sla 0.1.0)` used in
    error messages; the host supplies it.
    """

    def __init__(self, pm: pluggy.PluginManager, describe_plugin: Callable[[str], str] | None = None) -> None:
        self._pm = pm
        self._describe = describe_plugin or (lambda name: name)
        self._cache: dict[str, tuple[tuple[int, ...], list[Any]]] = {}
        # Set by the loader when WENTI_TRACE_HOOKS is on; pluggy's own monitoring
        # does not see implementations called one at a time through this facade.
        self.trace = False

    # -- registration ------------------------------------------------------

    def config_classes(self) -> list[PluginConfig]:
        return self._records("register_config_classes", PluginConfig)

    def storage_backends(self) -> list[StorageBackend]:
        return self._records("register_storage_backends", StorageBackend)

    def sql_schemas(self) -> list[SqlSchema]:
        return self._records("register_sql_schemas", SqlSchema)

    def blob_stores(self) -> list[BlobStore]:
        return self._records("register_blob_stores", BlobStore)

    def classifiers(self) -> list[Classifier]:
        return self._records("register_classifiers", Classifier)

    def notifiers(self) -> list[Notifier]:
        return self._records("register_notifiers", Notifier)

    def sla_policies(self) -> list[SlaPolicyType]:
        return self._records("register_sla_policies", SlaPolicyType)

    def calendars(self) -> list[BusinessCalendar]:
        return self._records("register_calendars", BusinessCalendar)

    def report_generators(self) -> list[ReportGenerator]:
        return self._records("register_report_generators", ReportGenerator)

    def metrics(self) -> list[Metric]:
        return self._records("register_metrics", Metric)

    def connectors(self) -> list[Connector]:
        return self._records("register_connectors", Connector)

    def search_backends(self) -> list[SearchBackend]:
        return self._records("register_search_backends", SearchBackend)

    def job_runners(self) -> list[JobRunner]:
        return self._records("register_job_runners", JobRunner)

    def jobs(self) -> list[ScheduledJob]:
        return self._records("register_jobs", ScheduledJob)

    def jobs(self) -> list[ScheduledJob]:
        return self._records("register_jobs", ScheduledJob)

    def issue_filters(self) -> list[IssueFilter]:
        return self._records("register_issue_filters", IssueFilter)

    def commands(self) -> list[CliCommand]:
        return self._records("register_commands", CliCommand)

    def admin_views(self) -> list[AdminView]:
        return self._records("register_admin_views", AdminView)

    def web_routes(self, app: App) -> list[WebRoute]:
        # Not cached: the result depends on `app`.
        return self.collect_records("register_web_routes", WebRoute, app=app)

    def open_store(self, config: Config) -> Store:
        """Open the storage backend whose schemes include the scheme of `[storage] url`.

        Raises `ConfigError` naming the URL and the installed schemes when no
        backend accepts it (see `storage_backend_for`).
        """
        url = config.storage.url
        chosen = self.storage_backend_for(config)
        log.info("opening store %s from plugin %s for %s", chosen.name, chosen.plugin, redact_url(url))
        # The backend gets the facade so it can ask for plugins' tables (`sql_schemas`)
        # before the first migration, which must know every branch already in the database.
        # Backends written to the two-argument form keep working.
        if _accepts_keyword(chosen.open, "hooks"):
            return chosen.open(url, config, hooks=self)
        return chosen.open(url, config)

    def storage_backend_for(self, config: Config) -> StorageBackend:
        """Return the storage backend that accepts `[storage] url`, without opening it.

        A backend may list a full SQLAlchemy scheme (`postgresql+psycopg`) or its
        dialect (`postgresql`); the full scheme is tried first. Raises `ConfigError`
        naming the URL and the installed schemes when no backend accepts it.
        """
        url = config.storage.url
        scheme = url.partition("://")[0].lower()
        dialect = scheme.split("+")[0]
        backends = self.storage_backends()

        chosen = next((b for b in backends if scheme in b.schemes), None)
        if chosen is None:
            chosen = next((b for b in backends if dialect in b.schemes), None)
        if chosen is None:
            installed = ", ".join(sorted({s for b in backends for s in b.schemes})) or "none"
            raise ConfigError(
                N_(
                    "{file}: [storage] url = {value!r} is invalid: no installed storage backend accepts the scheme "
                    "{scheme!r} (installed schemes: {installed}). Install a storage plugin such as wenti-sql or "
                    "change the URL."
                ),
                file=config.file_label,
                value=redact_url(url),
                scheme=scheme,
                installed=installed,
            )
        return chosen

    # -- decisions ---------------------------------------------------------

    def select_queue(self, issue: Issue, app: App) -> str | None:
        return self._pm.hook.select_queue(issue=issue, app=app)

    def choose_assignee(self, issue: Issue, app: App) -> str | None:
        return self._pm.hook.choose_assignee(issue=issue, app=app)

    def schedule_job(
        self, app: App, job: str, run_at: datetime, payload: dict[str, Any] | None = None, key: str | None = None
    ) -> str:
        """Enqueue a delayed run of `job` with the installed job runner; returns the run's id.

        Raises `PluginError` when no installed plugin accepts the job (no job runner).
        """
        result = self._pm.hook.schedule_job(app=app, job=job, run_at=run_at, payload=dict(payload or {}), key=key)
        if result is None:
            raise PluginError(
                "No installed job runner accepted the job {job}. Install and enable a job runner plugin such as wenti-jobs.",
                job=job,
            )
        return result

    # -- advice ------------------------------------------------------------

    def classify_issue(self, issue: Issue, app: App) -> list[Suggestion]:
        """Collect suggestions from every classifier; a failing one gives none."""
        suggestions: list[Suggestion] = []
        for plugin_name, result in self._advise("classify_issue", issue=issue, app=app):
            for suggestion in result:
                if not isinstance(suggestion, Suggestion):
                    log.warning(
                        "plugin %s returned %r from classify_issue for issue %s; expected wenti.records.Suggestion",
                        plugin_name,
                        type(suggestion).__name__,
                        issue.id,
                    )
                    continue
                suggestions.append(suggestion)
        return suggestions

    def similar_issues(self, issue: Issue, app: App, limit: int) -> list[dict[str, Any]]:
        """Collect similar issues and articles from every plugin, best score first."""
        found: list[dict[str, Any]] = []
        for plugin_name, result in self._advise("similar_issues", issue=issue, app=app, limit=limit):
            for item in result:
                score = item.get("score") if isinstance(item, dict) else None
                if not isinstance(score, (int, float)) or isinstance(score, bool):
                    log.warning("plugin %s returned %r from similar_issues; expected a dict with a numeric score", plugin_name, item)
                    continue
                found.append({**item, "plugin": plugin_name})
        found.sort(key=lambda item: float(item["score"]), reverse=True)
        return found[:limit]

    def issue_badges(self, issues: list[Issue], ctx: Context, app: App) -> list[IssueBadge]:
        """Collect badges from every plugin; a failing plugin or a wrong record gives none."""
        badges: list[IssueBadge] = []
        for plugin_name, result in self._advise("issue_badges", issues=issues, ctx=ctx, app=app):
            for badge in result:
                if not isinstance(badge, IssueBadge):
                    log.warning("plugin %s returned %r from issue_badges; expected wenti.records.IssueBadge", plugin_name, badge)
                    continue
                badges.append(attrs.evolve(badge, plugin=plugin_name))
        return badges

    def web_nav_entries(self, ctx: Context, app: App) -> list[WebNavEntry]:
        """Collect navigation links from every plugin, sorted by `order`; a failing plugin adds none."""
        entries: list[WebNavEntry] = []
        for plugin_name, result in self._advise("web_nav_entries", ctx=ctx, app=app):
            for entry in result:
                if not isinstance(entry, WebNavEntry):
                    log.warning("plugin %s returned %r from web_nav_entries; expected wenti.records.WebNavEntry", plugin_name, entry)
                    continue
                entries.append(attrs.evolve(entry, plugin=plugin_name))
        entries.sort(key=lambda entry: entry.order)
        return entries

    def web_template_blocks(self, slot: str, page: dict[str, Any], ctx: Context, app: App) -> list[TemplateBlock]:
        """Collect the blocks of one page slot, sorted by `order` then plugin name.

        A failing plugin adds no blocks. A returned object that is not a
        `TemplateBlock`, or whose `html` is not a string or `order` not an int, is
        logged and dropped. Escaping plain strings is left to the web app, which
        renders the blocks.
        """
        blocks: list[TemplateBlock] = []
        for plugin_name, result in self._advise("web_template_blocks", slot=slot, page=page, ctx=ctx, app=app):
            for block in result:
                if not _is_valid_block(block):
                    # Log the type, not the value, because a block's HTML may show personal data.
                    log.warning(
                        "plugin %s returned an invalid %s from web_template_blocks for slot %s; "
                        "expected wenti.records.TemplateBlock with str or Markup html and an int order",
                        plugin_name,
                        type(block).__name__,
                        slot,
                    )
                    continue
                blocks.append(attrs.evolve(block, plugin=plugin_name))
        blocks.sort(key=lambda block: (block.order, block.plugin))
        return blocks

    # -- validation ----------------------------------------------------------

    def validate_issue_change(self, issue: Issue, before: Issue | None, actor: User, action: str, app: App) -> list[str]:
        """Collect veto reasons from every validator; an exception is a veto naming the plugin."""
        kwargs = {"issue": issue, "before": before, "actor": actor, "action": action, "app": app}
        reasons: list[str] = []
        for impl in self._impls_in_call_order("validate_issue_change"):
            try:
                result = _as_list(self._call(impl, kwargs))
            except Exception as error:
                log.exception("plugin %s failed in validate_issue_change for issue %s; rejecting the change", impl.plugin_name, issue.id)
                veto = Text(
                    N_("{plugin}: validation failed ({error}); the change was rejected."),
                    plugin=self._describe(impl.plugin_name),
                    error=f"{type(error).__name__}: {error}",
                )
                reasons.append(veto)
                continue
            reasons.extend(reason if isinstance(reason, str) else str(reason) for reason in result if reason)
        return reasons

    # -- lifecycle -----------------------------------------------------------

    def startup(self, app: App) -> None:
        """Run every `startup` implementation; the first failure aborts with the plugin's name."""
        for impl in self._impls_in_call_order("startup"):
            try:
                self._call(impl, {"app": app})
            except Exception as error:
                raise PluginError(
                    N_("Plugin {plugin} failed to start: {error}. Check its configuration or disable it."),
                    plugin=self._describe(impl.plugin_name),
                    error=f"{type(error).__name__}: {error}",
                ) from error

    def shutdown(self, app: App) -> None:
        """Run every `shutdown` implementation in reverse registration order; failures are logged."""
        for impl in self._impls_in_call_order("shutdown"):
            try:
                self._call(impl, {"app": app})
            except Exception:
                log.exception("plugin %s failed in shutdown", impl.plugin_name)

    # -- events (called by the outbox dispatcher) ----------------------------

    def event_hook_impls(self, hook_name: str) -> list[tuple[str, Callable[..., Any]]]:
        """Return `(plugin_name, function)` of every implementation of an event hook."""
        return [(impl.plugin_name, impl.function) for impl in self._impls_in_call_order(hook_name)]

    def call_event_impl(self, hook_name: str, plugin_name: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of an event hook with the arguments it accepts.

        Raises `PluginError` when the plugin is not loaded or does not implement the
        hook (it was removed since the delivery was queued). Exceptions of the
        implementation propagate, so the dispatcher can retry.
        """
        for impl in self._impls_in_call_order(hook_name):
            if impl.plugin_name == plugin_name:
                return self._call(impl, kwargs)
        raise PluginError(
            N_(
                "Plugin {plugin} does not implement {hook}; "
                "it may have been disabled or removed since the delivery was queued."
            ),
            plugin=plugin_name,
            hook=hook_name,
        )

    # -- shared machinery ----------------------------------------------------

    def records(self, hook_name: str) -> list[Any]:
        """Collect the records of any registration hook that takes no arguments, by hook name."""
        known = registration_hooks()
        if hook_name not in known:
            raise PluginError(
                N_("No registration hook named {hook}; registration hooks are: {known}."),
                hook=hook_name,
                known=", ".join(sorted(known)),
            )
        record_type, argnames = known[hook_name]
        if argnames:
            raise PluginError(N_("Hook {hook} needs arguments; call its own facade method."), hook=hook_name)
        return self._records(hook_name, record_type)

    def collect_records(self, hook_name: str, record_type: type[R], **kwargs: Any) -> list[R]:
        """Call each implementation of a registration hook and check its records.

        Every record must be a `record_type` with a non-empty lower-case `name` that
        no other plugin registered. Each is returned with `plugin` set to the name of
        the plugin that returned it. Raises `PluginError` otherwise.
        """
        records: list[R] = []
        owners: dict[str, str] = {}
        for impl in self._impls_in_call_order(hook_name):
            result = self._call(impl, kwargs)
            for record in _as_list(result):
                checked = self._check_record(hook_name, record_type, impl.plugin_name, record)
                previous = owners.get(checked.name)  # type: ignore[attr-defined]
                if previous is not None:
                    raise PluginError(
                        N_(
                            "Plugins {first} and {second} both register {kind} {name!r} in {hook}. "
                            "Disable one of them in [plugins] disabled and report the conflict to the plugin authors."
                        ),
                        first=self._describe(previous),
                        second=self._describe(impl.plugin_name),
                        kind=record_type.__name__,
                        name=checked.name,  # type: ignore[attr-defined]
                        hook=hook_name,
                    )
                owners[checked.name] = impl.plugin_name  # type: ignore[attr-defined]
                records.append(checked)
        return records

    def _check_record(self, hook_name: str, record_type: type, plugin_name: str, record: Any) -> Any:
        if not isinstance(record, record_type):
            raise PluginError(
                N_("Plugin {plugin} returned {value!r} from {hook}; expected wenti.records.{kind} records."),
                plugin=self._describe(plugin_name),
                value=record,
                hook=hook_name,
                kind=record_type.__name__,
            )
        name = record.name
        if not isinstance(name, str) or not name or name != name.strip().lower():
            raise PluginError(
                N_(
                    "Plugin {plugin} registers {kind} with the name {name!r} in {hook}; "
                    "names must be non-empty, lower-case and without surrounding spaces."
                ),
                plugin=self._describe(plugin_name),
                kind=record_type.__name__,
                name=name,
                hook=hook_name,
            )
        return attrs.evolve(record, plugin=plugin_name)

    def _records(self, hook_name: str, record_type: type[R]) -> list[R]:
        # Records are cached until the set of implementations changes, so repeated
        # look-ups (a notifier per delivery) do not call every plugin again.
        # The cache keeps the implementation objects themselves, not their ids: an id
        # of a freed object can be reused by a newly registered implementation.
        impls = self._impls_in_call_order(hook_name)
        cached = self._cache.get(hook_name)
        if cached is not None and len(cached[0]) == len(impls) and all(a is b for a, b in zip(cached[0], impls)):
            return list(cached[1])
        records = self.collect_records(hook_name, record_type)
        self._cache[hook_name] = (tuple(impls), records)
        return list(records)

    def _advise(self, hook_name: str, **kwargs: Any) -> Iterable[tuple[str, Any]]:
        for impl in self._impls_in_call_order(hook_name):
            try:
                # Materialized inside the try, so a generator that fails half-way
                # is isolated like a function that raises.
                result = _as_list(self._call(impl, kwargs))
            except Exception:
                log.exception("plugin %s failed in %s; treating it as no opinion", impl.plugin_name, hook_name)
                continue
            yield impl.plugin_name, result

    def _call(self, impl: Any, kwargs: dict[str, Any]) -> Any:
        # An implementation may accept fewer arguments than the spec names.
        arguments = [kwargs[name] for name in impl.argnames]
        if not self.trace:
            return impl.function(*arguments)

        trace_log.info("call %s of plugin %s", impl.function.__name__, impl.plugin_name)
        try:
            result = impl.function(*arguments)
        except Exception as error:
            trace_log.info("%s of plugin %s raised %s: %s", impl.function.__name__, impl.plugin_name, type(error).__name__, error)
            raise
        trace_log.info("%s of plugin %s returned %r", impl.function.__name__, impl.plugin_name, result)
        return result

    def _impls_in_call_order(self, hook_name: str) -> list[Any]:
        caller = getattr(self._pm.hook, hook_name, None)
        if caller is None:
            raise PluginError(N_("No hook named {hook} is specified in wenti.hookspecs."), hook=hook_name)
        # pluggy lists implementations in registration order and calls them in reverse.
        return list(reversed(caller.get_hookimpls()))


def _accepts_keyword(function: Callable[..., Any], name: str) -> bool:
    import inspect

    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _is_valid_block(block: Any) -> bool:
    # A bool is an int, but an `order` of True is a mistake worth reporting.
    return (
        isinstance(block, TemplateBlock)
        and isinstance(block.html, str)
        and isinstance(block.order, int)
        and not isinstance(block.order, bool)
    )


def _as_list(result: Any) -> list[Any]:
    if result is None:
        return []
    if isinstance(result, (list, tuple)):
        return list(result)
    if isinstance(result, Iterable) and not isinstance(result, (str, bytes, dict)):
        return list(result)
    return [result]
