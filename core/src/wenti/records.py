"""Records that registration hooks return.

Each record names what it registers; the plugin manager stamps `plugin` with the
name of the plugin that returned it, so conflicts and `wenti plugins list` can show
where a name came from. Records are frozen attrs classes so they can be shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs


@attrs.frozen
class StorageBackend:
    """`open(url, config, hooks=...)` returns a `wenti.store.Store`.

    `schemes` are the URL schemes it accepts. `hooks` is the `wenti.hooks.Hooks`
    facade, from which a SQL backend reads `hooks.sql_schemas()` before migrating.
    """

    name: str
    schemes: tuple[str, ...]
    open: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class SqlSchema:
    """Tables a plugin owns in SQL backends.

    `metadata` is a SQLAlchemy `MetaData`; `migrations` is the folder of the plugin's
    Alembic version scripts, which form the Alembic branch labelled `branch`.
    """

    name: str
    metadata: Any
    migrations: str
    branch: str
    plugin: str = ""


@attrs.frozen
class Classifier:
    """`classify(issue, app)` returns a list of `Suggestion`s, best first."""

    name: str
    classify: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class Suggestion:
    field: str
    value: Any
    confidence: float
    explanation: str = ""
    classifier: str = ""


@attrs.frozen
class Notifier:
    """A delivery channel. `send(message, app)` raises on failure so the outbox retries."""

    name: str
    send: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class SlaPolicyType:
    name: str
    factory: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class BusinessCalendar:
    name: str
    factory: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class ReportGenerator:
    name: str
    generate: Callable[..., Any]
    formats: tuple[str, ...] = ("html",)
    plugin: str = ""


@attrs.frozen
class Metric:
    name: str
    compute: Callable[..., Any]
    unit: str = ""
    plugin: str = ""


@attrs.frozen
class Connector:
    name: str
    factory: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class SearchBackend:
    name: str
    factory: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class JobRunner:
    name: str
    factory: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class ScheduledJob:
    """Timed work a plugin hands to the scheduler (the installed job runner).

    `run(app, payload)` does the work. `cron` is a five-field crontab expression read
    in UTC (`"*/5 * * * *"`) for a periodic job; None makes a job that runs only when
    something enqueues it with a time and a payload. The runner persists schedules, so
    a run missed while no process was up happens once after the next start, and a
    lease keeps two processes from running the same occurrence.
    """

    name: str
    run: Callable[..., Any]
    cron: str | None = None
    plugin: str = ""


@attrs.frozen
class IssueFilter:
    """A filter of issue lists that a plugin evaluates, such as "SLA breached".

    `match(app, ctx, value)` returns the ids of the matching issues in the tenant of
    `ctx` (a `wenti.app.Context`); callers combine them with their other filters
    through `wenti.store.IssueQuery.ids`. `value_kind` is `flag` (no value, `value`
    is None) or `number` (a float the user enters, such as hours). `label` and
    `value_label` are gettext msgids in the plugin's catalog.
    """

    name: str
    label: str
    match: Callable[..., Any]
    value_kind: str = "flag"
    value_label: str = ""
    plugin: str = ""


@attrs.frozen
class IssueBadge:
    """A short status shown next to an issue in lists and on its page, and exported as a column.

    `name` is a stable key (`sla.resolution`) that exports use as the column name;
    `label` is the text in the requested language and `detail` a longer explanation.
    `tone` is one of `info`, `ok`, `warning`, `danger`, `muted`. `value` is the
    machine-readable value for APIs and exports (an ISO time, a number) or None.
    """

    issue_id: int
    name: str
    label: str
    tone: str = "info"
    detail: str = ""
    value: Any = None
    plugin: str = ""


@attrs.frozen
class WebNavEntry:
    """A link a plugin adds to the web app's top navigation for one user.

    `label` is the text in the user's language; `path` is a local path such as
    `/reports` (the web app drops entries whose path does not start with one `/`).
    `order` sorts entries among each other, lowest first.
    """

    label: str
    path: str
    order: int = 100
    plugin: str = ""


@attrs.frozen
class AdminColumn:
    """A column of an admin view: `key` of the row dicts, `label` a msgid of the plugin's catalog."""

    key: str
    label: str


@attrs.frozen
class AdminAction:
    """A button on each row of an admin view, such as "retry".

    `run(ctx, app, row_id)` acts on the row whose `id` is `row_id` (a string, as
    the form posts it) and returns a message for the user in `ctx.locale`. It
    raises a `wenti.errors.WentiError` (`PermissionDenied`, `NotFound` ...) to
    report a failure. `label` is a msgid of the plugin's catalog. `statuses`
    limits the button to rows whose `status` value is listed; empty shows it on
    every row.
    """

    name: str
    label: str
    run: Callable[..., Any]
    statuses: tuple[str, ...] = ()


@attrs.frozen
class AdminView:
    """A table that a plugin shows on the web admin pages (deliveries, dead letters ...).

    `rows(ctx, app, status=None, limit=100)` returns the rows as dicts keyed by the
    columns' keys, plus `id`, for the tenant and user of `ctx` (a
    `wenti.app.Context`). `rows` and every action's `run` check the user's role
    themselves and raise `wenti.errors.PermissionDenied`; the web app also hides
    the view from users below `required_role` (a `wenti.domain.Role` value).
    `statuses` are the values the status filter offers (empty: no filter).
    `title`, column labels, action labels and statuses are msgids that
    `translate(msgid, locale)` turns into text, usually the plugin's
    `wenti.i18n.Domain(...).gettext`; None uses `wenti.i18n.translate`.
    """

    name: str
    title: str
    columns: tuple[AdminColumn, ...]
    rows: Callable[..., Any]
    actions: tuple[AdminAction, ...] = ()
    statuses: tuple[str, ...] = ()
    required_role: str = "admin"
    translate: Callable[..., str] | None = None
    plugin: str = ""


@attrs.frozen
class BlobStore:
    """`open(app)` returns an object with `put(data, content_type) -> blob_id`, `get(blob_id) -> bytes`, `delete(blob_id)`."""

    name: str
    open: Callable[..., Any]
    plugin: str = ""


@attrs.frozen
class CliCommand:
    """A click command or group added under `wenti`."""

    name: str
    command: Any
    plugin: str = ""


@attrs.frozen
class WebRoute:
    """A route handler (or router) the web plugin mounts. `handler` is framework specific."""

    name: str
    handler: Any
    plugin: str = ""


@attrs.frozen
class PluginConfig:
    """The config class of a plugin's `[plugins.<name>]` table.

    `template` is TOML that `wenti init` writes into that table of a new
    instance's config file, for settings a new instance should start with.
    """

    name: str
    config_class: type
    plugin: str = ""
    template: str = ""


@attrs.frozen
class TemplateBlock:
    """A piece of HTML a plugin adds to one slot of a web page (an SLA panel, a banner).

    `html` is rendered by the plugin. Only a `markupsafe.Markup` value is inserted as
    HTML; the web app escapes any other string, so `"<b>x</b>"` shows the tags as text.
    Build markup with `Markup(...).format(...)` or a Jinja2 environment with autoescape,
    so values from issues stay escaped. `key` names the block within the plugin (the
    page marks the block with it, for styles and tests). Blocks of one slot are shown
    by `order`, lowest first, then by plugin name.
    """

    key: str
    # `str` because `markupsafe.Markup` is a subclass of it; core does not import markupsafe.
    html: str
    order: int = 100
    plugin: str = ""
