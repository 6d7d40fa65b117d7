"""`wenti issue create|list|show|update|transition|comment`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import click

from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.output import echo_json, echo_table, local_time, to_jsonable
from wenti.cli.state import CliState, pass_state
from wenti.domain import CommentVisibility, Issue, Priority, Workflow
from wenti.i18n import N_, _
from wenti.store import SORTABLE_FIELDS, IssueQuery

_ISSUE_REF = re.compile(r"^(?:([A-Za-z][A-Za-z0-9_]*)-)?(\d+)$")

PRIORITY_LABELS = {
    Priority.CRITICAL: N_("critical"),
    Priority.HIGH: N_("high"),
    Priority.NORMAL: N_("normal"),
    Priority.LOW: N_("low"),
}


EVENT_LABELS = {
    "issue.created": N_("created the issue"),
    "issue.updated": N_("changed"),
    "issue.transitioned": N_("moved"),
    "issue.assigned": N_("assigned"),
    "issue.commented": N_("commented"),
    "issue.linked": N_("linked"),
    "issue.imported": N_("imported the issue"),
}
FIELD_LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "status": N_("Status"),
    "priority": N_("Priority"),
    "queue": N_("Queue"),
    "category": N_("Category"),
    "tags": N_("Tags"),
    "assignee": N_("Assignee"),
    "reporter": N_("Reporter"),
}


def priority_label(priority: Priority | str) -> str:
    try:
        return _(PRIORITY_LABELS[Priority(priority)])
    except ValueError:
        return str(priority)


def issue_json(issue: Issue) -> dict[str, Any]:
    """Convert the issue to JSON values, with its key (`IT-42`) first."""
    return {"key": issue.key, **to_jsonable(issue)}


def parse_issue_ref(value: str) -> tuple[str | None, int]:
    """`IT-42` or `42` → (queue or None, 42)."""
    match = _ISSUE_REF.match(value.strip())
    if match is None:
        raise CliError(_("{value!r} is not an issue key or number; write it as IT-42 or 42.").format(value=value), 2)
    return (match.group(1).lower() if match.group(1) else None), int(match.group(2))


def load_issue(state: CliState, ref: str) -> Issue:
    from wenti.errors import NotFound

    queue, issue_id = parse_issue_ref(ref)
    try:
        issue = state.app().issues.get(state.context(), issue_id)
    except NotFound:
        if queue is None:
            raise
        # The service knows only the number; name the key the user typed.
        raise CliError(_("Issue {ref} does not exist.").format(ref=ref.strip().upper()), 3) from None
    if queue is not None and issue.queue.lower() != queue:
        raise CliError(_("Issue {ref} does not exist; issue {number} is {key}.").format(ref=ref, number=issue_id, key=issue.key), 3)
    return issue


def parse_field_options(values: tuple[str, ...]) -> dict[str, str]:
    """`--field name=value` pairs as a dict."""
    fields = {}
    for item in values:
        name, separator, value = item.partition("=")
        if not separator or not name.strip():
            raise CliError(_("--field {value!r} is invalid; write it as name=value, e.g. --field resolution=重启后恢复.").format(value=item), 2)
        fields[name.strip()] = value
    return fields


def parse_local_time(value: str, timezone: str, end_of_day: bool = False) -> dt.datetime:
    """Convert a date or date-time the user typed, read in the tenant's zone, to UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CliError(_("{value!r} is not a date; write it as 2026-03-01 or \"2026-03-01 14:30\".").format(value=value), 2) from None
    date_only = len(value.strip()) <= 10
    if date_only and end_of_day:
        parsed = parsed + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed.astimezone(dt.timezone.utc)


def check_status_filters(state: CliState, statuses: tuple[str, ...]) -> None:
    """Reject a `--status` value that no workflow of the tenant has; it would match nothing."""
    if not statuses:
        return
    app, ctx = state.app(), state.context()
    known = sorted({status.key for workflow in app.admin.list_workflows(ctx) for status in workflow.states})
    for status in statuses:
        if status not in known:
            raise CliError(
                _("--status {value!r} does not exist in any workflow; use one of: {choices}.").format(value=status, choices=", ".join(known)),
                2,
            )


def parse_created_range(created_from: str | None, created_to: str | None, timezone: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Parse --created-from and --created-to; reject a range that ends before it starts."""
    start = parse_local_time(created_from, timezone) if created_from else None
    end = parse_local_time(created_to, timezone, end_of_day=True) if created_to else None
    if start is not None and end is not None and start > end:
        raise CliError(
            _("--created-from {start} is after --created-to {end}; swap the two dates.").format(start=created_from, end=created_to),
            2,
        )
    return start, end


def check_expected_version(issue: Issue, expected_version: int | None) -> int:
    """Return the version to write against; reject a `--version` the issue never had."""
    if expected_version is None:
        return issue.version
    if expected_version > issue.version:
        raise CliError(
            _("--version {value} is newer than issue {key}, which is at version {current}; pass the version shown by wenti issue show.").format(
                value=expected_version, key=issue.key, current=issue.version
            ),
            2,
        )
    return expected_version


def workflows_by_queue(state: CliState) -> dict[str, Workflow]:
    app, ctx = state.app(), state.context()
    workflows = {workflow.key: workflow for workflow in app.admin.list_workflows(ctx)}
    return {queue.key: workflows.get(queue.workflow_key) or workflows["default"] for queue in app.admin.list_queues(ctx)}


def status_label(workflows: dict[str, Workflow], issue: Issue) -> str:
    workflow = workflows.get(issue.queue)
    state = workflow.state(issue.status) if workflow is not None else None
    return _(state.name) if state is not None else issue.status


@click.group("issue", cls=Group, help=N_("Create, list, show and change issues."))
def issue_group() -> None:
    pass


@issue_group.command("create", cls=Command, help=N_("Create an issue."))
@option("--title", required=True, help=N_("Short title of the issue."))
@option("--queue", help=N_("Queue key (default: chosen by routing plugins, else the first queue)."))
@option("--description", "-d", default="", help=N_("Full description."))
@option("--priority", default="normal", show_default=True, type=click.Choice([p.value for p in Priority]), help=N_("Priority."))
@option("--category", help=N_("Category, one the queue offers."))
@option("--tag", "tags", multiple=True, help=N_("Tag; repeat for several."))
@option("--field", "fields", multiple=True, metavar="NAME=VALUE", help=N_("Custom field; repeat for several."))
@option("--assignee", help=N_("Username of the assignee."))
@option("--reporter", help=N_("Username of the reporter (default: you)."))
@option("--json", "as_json", is_flag=True, help=N_("Print the issue as JSON."))
@pass_state
def issue_create(state: CliState, title: str, queue: str | None, description: str, priority: str, category: str | None, tags: tuple[str, ...], fields: tuple[str, ...], assignee: str | None, reporter: str | None, as_json: bool) -> None:
    app, ctx = state.app(), state.context()
    issue = app.issues.create(
        ctx,
        queue=queue,
        title=title,
        description=description,
        priority=priority,
        category=category,
        tags=tags,
        custom_fields=parse_field_options(fields),
        assignee=assignee,
        reporter=reporter,
        source="cli",
    )
    if as_json:
        echo_json(issue_json(issue))
        return
    click.echo(_("Issue {key} created (status {status}).").format(key=issue.key, status=status_label(workflows_by_queue(state), issue)))


@issue_group.command("list", cls=Command, help=N_("List issues, newest first, one page at a time."))
@option("--queue", "queues", multiple=True, help=N_("Only this queue; repeat for several."))
@option("--status", "statuses", multiple=True, help=N_("Only this status key; repeat for several."))
@option("--assignee", "assignees", multiple=True, help=N_("Only issues assigned to this user; repeat for several."))
@option("--unassigned", is_flag=True, help=N_("Only unassigned issues."))
@option("--reporter", help=N_("Only issues this user reported."))
@option("--priority", "priorities", multiple=True, type=click.Choice([p.value for p in Priority]), help=N_("Only this priority; repeat for several."))
@option("--category", "categories", multiple=True, help=N_("Only this category; repeat for several."))
@option("--tag", help=N_("Only issues with this tag."))
@option("--text", help=N_("Only issues whose title or description contains this text."))
@option("--source", help=N_("Only issues from this source, such as web, cli or an import's source name."))
@option("--created-from", metavar="DATE", help=N_("Created on or after this date or time (tenant time zone)."))
@option("--created-to", metavar="DATE", help=N_("Created on or before this date or time (tenant time zone)."))
@option("--sort", default="-created_at", show_default=True, help=N_("Sort fields separated by commas, - for descending: id, created_at, updated_at, priority, status, title, resolved_at."))
@option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000), help=N_("Issues per page."))
@option("--cursor", help=N_("Page to show, from the previous page's output."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON: the issues and the next cursor."))
@pass_state
def issue_list(state: CliState, queues: tuple[str, ...], statuses: tuple[str, ...], assignees: tuple[str, ...], unassigned: bool, reporter: str | None, priorities: tuple[str, ...], categories: tuple[str, ...], tag: str | None, text: str | None, source: str | None, created_from: str | None, created_to: str | None, sort: str, limit: int, cursor: str | None, as_json: bool) -> None:
    app, ctx = state.app(), state.context()
    sort_fields = tuple(part.strip() for part in sort.split(",") if part.strip())
    for field in sort_fields:
        if field.lstrip("-") not in SORTABLE_FIELDS:
            raise CliError(_("--sort {value!r} is invalid; sort by {fields}, with - for descending.").format(value=field, fields=", ".join(SORTABLE_FIELDS)), 2)
    check_status_filters(state, statuses)
    created_start, created_end = parse_created_range(created_from, created_to, ctx.timezone)

    query = IssueQuery(
        queue=queues,
        status=statuses,
        assignee=assignees,
        unassigned=unassigned,
        reporter=reporter,
        priority=priorities,
        category=categories,
        tag=tag,
        text=text,
        source=source,
        created_from=created_start,
        created_to=created_end,
        sort=sort_fields,
        limit=limit,
        after=cursor,
    )
    page = app.issues.list(ctx, query)
    if as_json:
        echo_json({"issues": [issue_json(issue) for issue in page.items], "next_cursor": page.next_cursor})
        return
    if not page.items:
        click.echo(_("No issues match."))
        return

    workflows = workflows_by_queue(state)
    headers = [_("Key"), _("Status"), _("Priority"), _("Title"), _("Assignee"), _("Created")]
    rows = [
        [issue.key, status_label(workflows, issue), priority_label(issue.priority), issue.title, issue.assignee or "-", local_time(issue.created_at, ctx.timezone)]
        for issue in page.items
    ]
    echo_table(headers, rows)
    if page.next_cursor:
        click.echo(_("More issues: add --cursor {cursor}").format(cursor=page.next_cursor))


@issue_group.command("show", cls=Command, help=N_("Show an issue with its comments, history and possible transitions."))
@click.argument("ref", metavar="ISSUE")
@option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
@pass_state
def issue_show(state: CliState, ref: str, as_json: bool) -> None:
    app, ctx = state.app(), state.context()
    issue = load_issue(state, ref)
    comments = app.issues.comments(ctx, issue.id)
    history = app.issues.history(ctx, issue.id)
    transitions = app.issues.allowed_transitions(ctx, issue)
    if as_json:
        echo_json({"issue": issue_json(issue), "comments": comments, "history": history, "transitions": [t.key for t in transitions]})
        return

    workflows = workflows_by_queue(state)
    tz = ctx.timezone
    click.echo(f"{issue.key}  {issue.title}")
    lines = [
        (_("Queue"), issue.queue),
        (_("Status"), f"{status_label(workflows, issue)} ({issue.status})"),
        (_("Priority"), priority_label(issue.priority)),
        (_("Category"), issue.category or "-"),
        (_("Tags"), ", ".join(issue.tags) or "-"),
        (_("Reporter"), issue.reporter),
        (_("Assignee"), issue.assignee or "-"),
        (_("Created"), local_time(issue.created_at, tz)),
        (_("Updated"), local_time(issue.updated_at, tz)),
        (_("Resolved"), local_time(issue.resolved_at, tz) or "-"),
        (_("Closed"), local_time(issue.closed_at, tz) or "-"),
        (_("Version"), str(issue.version)),
    ]
    lines.extend((name, _format_value(value, tz)) for name, value in sorted(issue.custom_fields.items()))
    for name, value in lines:
        click.echo(f"  {name}: {value}")
    if issue.description:
        click.echo("")
        click.echo(issue.description)

    if comments:
        click.echo("")
        click.echo(_("Comments:"))
        for comment in comments:
            kind = _("internal note") if comment.visibility is CommentVisibility.INTERNAL else _("public reply")
            click.echo(f"  [{local_time(comment.created_at, tz)}] {comment.author} ({kind}):")
            for line in comment.body.splitlines() or [""]:
                click.echo(f"    {line}")

    click.echo("")
    click.echo(_("History:"))
    for event in history:
        click.echo(f"  [{local_time(event.at, tz)}] {event.actor} {_event_summary(event, tz)}".rstrip())

    click.echo("")
    if transitions:
        names = ", ".join(f"{t.key} ({_(t.name)})" for t in transitions)
        click.echo(_("Possible transitions: {names}").format(names=names))
    else:
        click.echo(_("No transitions are open to you."))


@issue_group.command("update", cls=Command, help=N_("Change fields of an issue."))
@click.argument("ref", metavar="ISSUE")
@option("--title", help=N_("New title."))
@option("--description", "-d", help=N_("New description."))
@option("--priority", type=click.Choice([p.value for p in Priority]), help=N_("New priority."))
@option("--category", help=N_("New category."))
@option("--tag", "tags", multiple=True, help=N_("Replace the tags; repeat for several."))
@option("--field", "fields", multiple=True, metavar="NAME=VALUE", help=N_("Set a custom field; repeat for several."))
@option("--assignee", help=N_("Assign to this user; an empty value unassigns."))
@option("--version", "expected_version", type=click.IntRange(min=1), help=N_("Version you read; the change is rejected if the issue changed since (default: the current version)."))
@option("--json", "as_json", is_flag=True, help=N_("Print the issue as JSON."))
@pass_state
def issue_update(state: CliState, ref: str, title: str | None, description: str | None, priority: str | None, category: str | None, tags: tuple[str, ...], fields: tuple[str, ...], assignee: str | None, expected_version: int | None, as_json: bool) -> None:
    app, ctx = state.app(), state.context()
    issue = load_issue(state, ref)
    version = check_expected_version(issue, expected_version)

    changes: dict[str, Any] = {}
    for name, value in (("title", title), ("description", description), ("priority", priority), ("category", category)):
        if value is not None:
            changes[name] = value
    if tags:
        changes["tags"] = list(tags)
    if fields:
        custom = dict(issue.custom_fields)
        custom.update(parse_field_options(fields))
        changes["custom_fields"] = custom
    if not changes and assignee is None:
        raise CliError(_("Nothing to change; pass at least one option such as --title or --assignee."), 2)

    if changes:
        issue = app.issues.update(ctx, issue.id, version, **changes)
        version = issue.version
    if assignee is not None:
        issue = app.issues.assign(ctx, issue.id, version, assignee or None)

    if as_json:
        echo_json(issue_json(issue))
        return
    click.echo(_("Issue {key} updated (version {version}).").format(key=issue.key, version=issue.version))


@issue_group.command("transition", cls=Command, help=N_("Move an issue along its workflow, e.g. resolve or close."))
@click.argument("ref", metavar="ISSUE")
@click.argument("transition")
@option("--field", "fields", multiple=True, metavar="NAME=VALUE", help=N_("Field the transition needs, e.g. resolution=...; repeat for several."))
@option("--comment", help=N_("Public reply added with the transition."))
@option("--version", "expected_version", type=click.IntRange(min=1), help=N_("Version you read; the change is rejected if the issue changed since (default: the current version)."))
@option("--json", "as_json", is_flag=True, help=N_("Print the issue as JSON."))
@pass_state
def issue_transition(state: CliState, ref: str, transition: str, fields: tuple[str, ...], comment: str | None, expected_version: int | None, as_json: bool) -> None:
    app, ctx = state.app(), state.context()
    issue = load_issue(state, ref)
    version = check_expected_version(issue, expected_version)
    issue = app.issues.transition(ctx, issue.id, version, transition, fields=parse_field_options(fields) or None, comment=comment)
    if as_json:
        echo_json(issue_json(issue))
        return
    click.echo(_("Issue {key} is now {status}.").format(key=issue.key, status=status_label(workflows_by_queue(state), issue)))


@issue_group.command("comment", cls=Command, help=N_("Add a public reply or an internal note."))
@click.argument("ref", metavar="ISSUE")
@click.argument("body")
@option("--internal", is_flag=True, help=N_("Internal note, visible to staff only."))
@pass_state
def issue_comment(state: CliState, ref: str, body: str, internal: bool) -> None:
    app, ctx = state.app(), state.context()
    issue = load_issue(state, ref)
    visibility = CommentVisibility.INTERNAL if internal else CommentVisibility.PUBLIC
    app.issues.comment(ctx, issue.id, body, visibility=visibility, source="cli")
    if internal:
        click.echo(_("Internal note added to {key}.").format(key=issue.key))
    else:
        click.echo(_("Public reply added to {key}.").format(key=issue.key))


def _event_summary(event: Any, timezone: str) -> str:
    label = _(EVENT_LABELS[event.type]) if event.type in EVENT_LABELS else event.type
    # A new issue's changes repeat every field shown above, so the label is enough.
    if event.type in ("issue.created", "issue.imported"):
        return label
    changes = []
    for change in event.changes:
        if change.field == "custom_fields" and isinstance(change.before, dict) and isinstance(change.after, dict):
            for key in sorted(set(change.before) | set(change.after)):
                before, after = change.before.get(key), change.after.get(key)
                if before != after:
                    changes.append(f"{key}: {_format_value(before, timezone)} → {_format_value(after, timezone)}")
            continue
        name = _(FIELD_LABELS[change.field]) if change.field in FIELD_LABELS else change.field
        changes.append(f"{name}: {_format_value(change.before, timezone)} → {_format_value(change.after, timezone)}")
    return f"{label} {', '.join(changes)}"


def _format_value(value: Any, timezone: str | None = None) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, str) and timezone is not None and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        # History stores times as ISO 8601 strings; show them like every other time.
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return local_time(value, timezone) if timezone is not None and value.tzinfo is not None else value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "-"
    return str(getattr(value, "value", value))
