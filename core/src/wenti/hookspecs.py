"""Hook specifications: every point where a plugin can add to or change wenti.

The specs are grouped by lifecycle. Every hook's docstring says when it is called,
what its arguments are, what its result means and in which version it appeared.
`docs/plugin-hooks.md` has one section per hook, and a meta-test checks that each
hook has a section and a test.

Rules that hold for all hooks:

* An implementation may accept fewer arguments than the spec names; specs only
  ever gain optional arguments, so old plugins keep working.
* Registration hooks return a list of records from `wenti.records`; the plugin
  manager stamps each with the plugin's name and rejects duplicate names. The
  loader also calls the ones without arguments once while it loads each plugin,
  to skip a plugin whose names are taken, so they must be cheap and free of side
  effects. A new `register_*` spec must be annotated `-> list[<record class>]`.
* Event hooks are never called inline: the outbox dispatcher calls each
  implementation on its own after the change is committed, retries failures with
  backoff and records dead letters.
* Advisory hooks (classification, similar issues) are called one implementation
  at a time; an exception is logged with the plugin's name and counts as no opinion.
* Validation hooks fail closed: an exception vetoes the change.

Core code never calls `pm.hook` directly; it goes through `wenti.hooks.Hooks`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from wenti.app import App, Context
    from wenti.domain import Event, Issue, User
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

PROJECT = "wenti"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------------------
# Bootstrap: configuration and start-up
# ---------------------------------------------------------------------------


@hookspec
def register_config_classes() -> list[PluginConfig]:
    """Declare the attrs class that validates this plugin's `[plugins.<name>]` table.

    Called when the configuration validates its plugin tables, right after the
    plugins are loaded and before `startup`. The record's `name` is the table
    name (usually the plugin's entry-point name). A table present in the file
    with no declared class is an error unless the plugin is disabled.

    :return: a list of `wenti.records.PluginConfig`.

    .. versionadded:: 0.1
    """


@hookspec
def startup(app: App) -> None:
    """Run start-up work once the app is fully built.

    Called after plugins are loaded, the configuration validated and the store
    opened, before the first command or request. Raising aborts start-up with the
    plugin's name in the error.

    :param app: the running `wenti.app.App`.

    .. versionadded:: 0.1
    """


@hookspec
def shutdown(app: App) -> None:
    """Release resources before the process exits.

    Called once when the app closes, in reverse registration order. Exceptions
    are logged and do not stop other plugins' shutdown.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------
# Registration: what a plugin provides
# ---------------------------------------------------------------------------


@hookspec
def register_storage_backends() -> list[StorageBackend]:
    """Provide storage backends, each selected by the scheme of `[storage] url`.

    Called when the app opens its store. The chosen record's `open(url, config)`
    returns the `wenti.store.Store`; an `open` that also accepts a `hooks` keyword
    receives the hook facade, to collect `register_sql_schemas` records early.

    :return: a list of `wenti.records.StorageBackend`.

    .. versionadded:: 0.1
    """


@hookspec
def register_sql_schemas() -> list[SqlSchema]:
    """Declare tables this plugin owns in SQL storage, with their Alembic branch.

    Called by SQL storage backends when they create or migrate the schema.

    :return: a list of `wenti.records.SqlSchema`.

    .. versionadded:: 0.1
    """


@hookspec
def register_blob_stores() -> list[BlobStore]:
    """Provide stores for attachment bytes, selected by `[attachments] store`.

    :return: a list of `wenti.records.BlobStore`.

    .. versionadded:: 0.1
    """


@hookspec
def register_classifiers() -> list[Classifier]:
    """Provide classifiers that suggest category, priority, tags or queue.

    :return: a list of `wenti.records.Classifier`.

    .. versionadded:: 0.1
    """


@hookspec
def register_notifiers() -> list[Notifier]:
    """Provide notification channels (e-mail, chat robots, webhooks).

    :return: a list of `wenti.records.Notifier`.

    .. versionadded:: 0.1
    """


@hookspec
def register_sla_policies() -> list[SlaPolicyType]:
    """Provide kinds of SLA policy that `[plugins.sla]` can configure.

    :return: a list of `wenti.records.SlaPolicyType`.

    .. versionadded:: 0.1
    """


@hookspec
def register_calendars() -> list[BusinessCalendar]:
    """Provide business calendars (working hours, holidays, make-up workdays).

    :return: a list of `wenti.records.BusinessCalendar`.

    .. versionadded:: 0.1
    """


@hookspec
def register_report_generators() -> list[ReportGenerator]:
    """Provide report generators (trend reports, SLA compliance, exports).

    :return: a list of `wenti.records.ReportGenerator`.

    .. versionadded:: 0.1
    """


@hookspec
def register_metrics() -> list[Metric]:
    """Provide metrics that dashboards and reports can show.

    :return: a list of `wenti.records.Metric`.

    .. versionadded:: 0.1
    """


@hookspec
def register_connectors() -> list[Connector]:
    """Provide connectors to outside systems (ERP, CRM, other trackers).

    :return: a list of `wenti.records.Connector`.

    .. versionadded:: 0.1
    """


@hookspec
def register_search_backends() -> list[SearchBackend]:
    """Provide full-text search backends.

    :return: a list of `wenti.records.SearchBackend`.

    .. versionadded:: 0.1
    """


@hookspec
def register_job_runners() -> list[JobRunner]:
    """Provide runners for scheduled and delayed work.

    :return: a list of `wenti.records.JobRunner`.

    .. versionadded:: 0.1
    """


@hookspec
def register_jobs() -> list[ScheduledJob]:
    """Provide periodic and delayed jobs for the scheduler.

    Called by the job runner when it starts and when it looks up a job by name.
    Each record names one job; the runner stores its schedule in the database and
    calls `run(app, payload)` in one process at a time. A job must tolerate running
    again after a crash (at-least-once), so it checks its own work before repeating it.

    :return: a list of `wenti.records.ScheduledJob`.

    .. versionadded:: 0.1
    """


@hookspec
def register_issue_filters() -> list[IssueFilter]:
    """Provide filters of issue lists that the plugin evaluates (e.g. SLA due within N hours).

    Called by the web app and the API when they build the filter choices of an
    issue list. The caller runs `match(app, ctx, value)` when the user picks the
    filter and restricts the list to the returned issue ids.

    :return: a list of `wenti.records.IssueFilter`.

    .. versionadded:: 0.1
    """


@hookspec
def register_commands() -> list[CliCommand]:
    """Add click commands or groups under the `wenti` command.

    Called once when the command line starts, before arguments are parsed.

    :return: a list of `wenti.records.CliCommand`.

    .. versionadded:: 0.1
    """


@hookspec
def register_web_routes(app: App) -> list[WebRoute]:
    """Add routes to the web app.

    Called once when the web app is built.

    :param app: the running `wenti.app.App`.
    :return: a list of `wenti.records.WebRoute`.

    .. versionadded:: 0.1
    """


@hookspec
def register_admin_views() -> list[AdminView]:
    """Add tables to the web admin pages, with buttons that act on a row.

    Called when the web app builds its admin navigation and when an admin opens
    `/admin/views/<name>`. The web app calls `rows(ctx, app, status=..., limit=...)`
    and `run(ctx, app, row_id)` of an action with the signed-in user's
    `wenti.app.Context`, so a plugin shows its own data (a delivery log, dead
    letters) without importing the web plugin. `rows` and `run` must check the
    user's role themselves and raise `wenti.errors.PermissionDenied`.

    :return: a list of `wenti.records.AdminView`.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------
# Issue lifecycle: decisions, advice and validation before a change is written
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def select_queue(issue: Issue, app: App) -> str | None:
    """Choose the queue of a new issue that arrived without one.

    Called by the service layer before a new issue is validated. The first
    non-None result wins; None from every plugin leaves the default queue.

    :return: a queue key, or None for no opinion.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def choose_assignee(issue: Issue, app: App) -> str | None:
    """Choose the assignee of a new unassigned issue (round-robin, least-loaded ...).

    Called by the service layer when an issue is created without an assignee.
    The first non-None result wins.

    :return: a username, or None for no opinion.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def schedule_job(app: App, job: str, run_at: datetime, payload: dict[str, Any], key: str | None) -> str | None:
    """Enqueue a delayed run of a job that some plugin registered with `register_jobs`.

    Called by plugins through `app.hooks.schedule_job(...)`; implemented by the
    installed job runner, which stores the run so a restart does not lose it. The
    first non-None result wins. Enqueuing the same `job` and `key` again replaces
    the pending run instead of adding another.

    :param job: the registered job name.
    :param run_at: when to run, an aware datetime.
    :param payload: JSON-serialisable data handed to the job's `run(app, payload)`.
    :param key: an idempotency key, or None for a new run each time.
    :return: the id of the stored run, or None when this plugin runs no jobs.

    .. versionadded:: 0.1
    """


@hookspec
def classify_issue(issue: Issue, app: App) -> list[Suggestion]:
    """Suggest field values for an issue being entered or triaged.

    Advisory: each implementation is called on its own; an exception is logged
    with the plugin's name and counts as no suggestion.

    :return: a list of `wenti.records.Suggestion`, best first.

    .. versionadded:: 0.1
    """


@hookspec
def similar_issues(issue: Issue, app: App, limit: int) -> list[dict[str, Any]]:
    """Find issues or articles similar to one being entered.

    Advisory, like `classify_issue`.

    :return: a list of dicts with at least `kind`, `id`, `title` and `score`.

    .. versionadded:: 0.1
    """


@hookspec
def issue_badges(issues: list[Issue], ctx: Context, app: App) -> list[IssueBadge]:
    """Describe issues with short badges (SLA state, remaining working time ...).

    Called by the web app for issue lists and issue pages, and by exports for extra
    columns, once per page of issues. Advisory: each implementation is called on
    its own; an exception is logged with the plugin's name and gives no badges.

    :param issues: the issues shown, all in the tenant of `ctx`.
    :param ctx: the acting `wenti.app.Context`; badge text is in `ctx.locale`.
    :return: a list of `wenti.records.IssueBadge`, any number per issue.

    .. versionadded:: 0.1
    """


@hookspec
def web_nav_entries(ctx: Context, app: App) -> list[WebNavEntry]:
    """Add links to the web app's top navigation for the signed-in user.

    Called by the web app on every page it renders for a signed-in user, so a
    plugin can show an entry only to some roles (check `ctx.user.role`). Advisory:
    each implementation is called on its own; an exception is logged with the
    plugin's name and adds no entries.

    :param ctx: the `wenti.app.Context` of the user; write labels in `ctx.locale`.
    :return: a list of `wenti.records.WebNavEntry`.

    .. versionadded:: 0.1
    """


@hookspec
def web_template_blocks(slot: str, page: dict[str, Any], ctx: Context, app: App) -> list[TemplateBlock]:
    """Add pieces of HTML to fixed places (slots) of the web app's pages.

    Called by the web app once per slot while it renders a page for a signed-in
    user, so a plugin can show a block only to some roles (check `ctx.user.role`).
    Advisory: each implementation is called on its own; an exception is logged with
    the plugin's name and adds no blocks. Return an empty list for slots the plugin
    does not fill. The slots and what `page` holds for each:

    * `base.footer` (every page): `path`, the request path.
    * `issue.sidebar` and `issue.after_description` (issue page): `issue`, the
      `wenti.domain.Issue`, and `queue`, its `wenti.domain.Queue` or None.
    * `issue_list.top` (issue list, above the filters): `issues`, the issues of
      the current page, `total`, the number of matching issues, and `filters`,
      the active filters by query parameter.
    * `issue_new.form_end` (new-issue form, before the submit button): `queues`,
      the queues the user can choose, and `values`, the form values entered so far.
      A block here may contain form fields, but the web app stores none of
      their values when it creates the issue.

    :param slot: one of the slot names above; new slots may be added later, so
        ignore names you do not know.
    :param page: what the page shows, as listed above. Do not change it.
    :param ctx: the `wenti.app.Context` of the user; write text in `ctx.locale`.
    :return: a list of `wenti.records.TemplateBlock`. Only `markupsafe.Markup`
        in `html` is inserted as HTML; any other string is escaped.

    .. versionadded:: 0.1
    """


@hookspec
def validate_issue_change(issue: Issue, before: Issue | None, actor: User, action: str, app: App) -> list[str]:
    """Veto a change before it is written.

    Called by the service layer inside the transaction, after the workflow and
    role checks, for every create, update, transition and assign. `before` is None
    for a new issue. All implementations are called. Any non-empty result, or an
    exception, rejects the change (fail closed) and nothing is written.

    :param action: one of `create`, `update`, `transition`, `assign`.
    :return: a list of reasons, in the actor's language; empty to allow.

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------
# After commit: event hooks, delivered through the outbox
# ---------------------------------------------------------------------------


@hookspec
def issue_event(event: Event, app: App) -> None:
    """React to a committed change of an issue.

    Called by the outbox dispatcher after commit, once per event and plugin,
    for every history event: `issue.created`, `issue.updated`,
    `issue.transitioned`, `issue.assigned`, `issue.commented`, `issue.linked`,
    `issue.imported`, and event types that plugins record (e.g. `sla.warning`,
    `sla.breached`). Raising makes the dispatcher retry with backoff; after the
    last attempt the delivery becomes a dead letter. A delivery may repeat after a
    crash, so an implementation with side effects deduplicates on `event.id`.

    :param event: the `wenti.domain.Event`, with before/after values.
    :param app: the running `wenti.app.App`.

    .. versionadded:: 0.1
    """
