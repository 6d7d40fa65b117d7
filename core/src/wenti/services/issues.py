"""Issue commands and queries: create, update, transition, assign, comment, link.

Each command runs in one unit of work: it loads what it needs, checks the actor's
role and the queue's workflow, calls validation hooks, writes the change with its
history event, audit row and outbox rows, and commits. A stale `expected_version`
raises `Conflict` before anything is written; the repository's compare-and-swap
catches the race where two writers pass that check at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from wenti.domain import (
    Attachment,
    Change,
    Comment,
    CommentVisibility,
    Event,
    EventType,
    Issue,
    Link,
    LinkType,
    Queue,
    Role,
    StateCategory,
    Transition,
    User,
    Workflow,
)
from wenti.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wenti.i18n import N_
from wenti.services import fields as F
from wenti.services.permissions import is_agent, may_take, require_role, require_visible
from wenti.services.writes import audit_entry, make_event, record
from wenti.store import ConcurrencyConflict, IssueQuery, Page, UnitOfWork
from wenti.workflows import default_workflow

if TYPE_CHECKING:
    from wenti.app import App, Context

log = logging.getLogger(__name__)


class IssueService:
    def __init__(self, app: App) -> None:
        self.app = app

    # -- queries ---------------------------------------------------------------

    def get(self, ctx: Context, issue_id: int) -> Issue:
        with self.app.uow(ctx.tenant_id, readonly=True) as uow:
            return require_visible(ctx, uow.issues.get(issue_id), issue_id)

    def list(self, ctx: Context, query: IssueQuery) -> Page:
        with self.app.uow(ctx.tenant_id, readonly=True) as uow:
            return uow.issues.list(self._scoped_query(ctx, uow, query))

    def count(self, ctx: Context, query: IssueQuery) -> int:
        with self.app.uow(ctx.tenant_id, readonly=True) as uow:
            return uow.issues.count(self._scoped_query(ctx, uow, query))

    def count_by(self, ctx: Context, group_fields: Sequence[str], query: IssueQuery) -> dict[tuple[Any, ...], int]:
        with self.app.uow(ctx.tenant_id, readonly=True) as uow:
            return uow.issues.count_by(group_fields, self._scoped_query(ctx, uow, query))

    def comments(self, ctx: Context, issue_id: int) -> list[Comment]:
        with self.app.uow(ctx.tenant_id, readonly=True) as uow:
            require_visible(ctx, uow.issues.get(issue_id), issue_id)
            return uow.comments.list(issue_id, include_internal=is_agent(ctx))

    def history(self, ctx: Context, issue_id: int) -> list[Event]:
        with self.app.uow(ctx.tenant_id, readonly=True) as uow:
            require_visible(ctx, uow.issues.get(issue_id), issue_id)
            events = uow.events.list(issue_id)
        if is_agent(ctx):
            return events
        return [event for event in events if event.data.get("visibility") != CommentVisibility.INTERNAL.value]

    def links(self, ctx: Context, issue_id: int) -> list[Link]:
        with self.app.uow(ctx.tenant_id, readonly=True) as uow:
            require_visible(ctx, uow.issues.get(issue_id), issue_id)
            return uow.links.list(issue_id)

    def workflow_of(self, ctx: Context, issue: Issue) -> Workflow:
        with self.app.uow(ctx.tenant_id, readonly=True) as uow:
            return self._workflow(uow, self._queue(uow, issue.queue))

    def allowed_transitions(self, ctx: Context, issue: Issue) -> list[Transition]:
        workflow = self.workflow_of(ctx, issue)
        return [t for t in workflow.transitions_from(issue.status) if may_take(ctx, t, issue)]

    # -- commands --------------------------------------------------------------

    def create(
        self,
        ctx: Context,
        *,
        title: str,
        queue: str | None = None,
        description: str = "",
        priority: Any = "normal",
        category: str | None = None,
        tags: Iterable[str] = (),
        custom_fields: dict[str, Any] | None = None,
        assignee: str | None = None,
        reporter: str | None = None,
        source: str = "web",
        external_id: str | None = None,
    ) -> Issue:
        """Create an issue. A repeated `(source, external_id)` returns the existing issue."""
        require_role(ctx, Role.REPORTER, N_("create issues"))
        now = self.app.clock.now()
        if not is_agent(ctx):
            if reporter not in (None, ctx.username) or assignee is not None:
                raise PermissionDenied(N_("Reporters create issues only as themselves and cannot assign them."))
            reporter = ctx.username

        draft = Issue(
            tenant_id=ctx.tenant_id,
            queue=queue or "",
            title=F.check_title(title),
            reporter=reporter or ctx.username,
            status="",
            description=description or "",
            priority=F.parse_priority(priority),
            category=category or None,
            tags=F.check_tags(tags),
            custom_fields=dict(custom_fields or {}),
            assignee=assignee or None,
            source=source,
            external_id=external_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        if not draft.queue:
            draft.queue = self.app.hooks.select_queue(draft, self.app) or ""

        with self.app.uow(ctx.tenant_id) as uow:
            if external_id:
                existing = uow.issues.find_by_external_id(source, external_id)
                if existing is not None:
                    return existing
            queue_obj = self._queue(uow, draft.queue or None)
            workflow = self._workflow(uow, queue_obj)
            draft.queue = queue_obj.key
            draft.status = workflow.initial_state
            draft.category = F.check_category(queue_obj, draft.category)
            draft.custom_fields = F.check_custom_fields(queue_obj, draft.custom_fields)
            self._check_user_exists(uow, draft.reporter, N_("reporter"))
            if draft.assignee is None:
                draft.assignee = self.app.hooks.choose_assignee(draft, self.app)
            if draft.assignee is not None:
                self._check_assignable(uow, draft.assignee)
            missing = F.missing_required_custom_fields(queue_obj, draft)
            if missing:
                raise ValidationFailed(N_("Fill in the required fields: {fields}."), fields=", ".join(missing))
            self._validate(ctx, draft, None, "create")

            issue = uow.issues.add(draft)
            event = make_event(
                ctx.tenant_id,
                issue.id,
                EventType.CREATED.value,
                ctx.username,
                now,
                changes=_creation_changes(issue),
                data={"queue": issue.queue, "source": source},
            )
            record(self.app, uow, [event], [audit_entry(ctx.tenant_id, ctx.username, "issue.create", "issue", issue.id, now)])
            uow.commit()
        log.info("issue created tenant=%s issue=%s actor=%s", ctx.tenant_id, issue.id, ctx.username)
        self.app.outbox.wake()
        return issue

    def update(self, ctx: Context, issue_id: int, expected_version: int, **changes: Any) -> Issue:
        unknown = sorted(set(changes) - set(F.UPDATABLE_FIELDS))
        if unknown:
            raise ValidationFailed(
                N_("Field {field} cannot be changed this way; change one of: {choices}."),
                field=", ".join(unknown),
                choices=", ".join(F.UPDATABLE_FIELDS),
            )

        def apply(uow: UnitOfWork, issue: Issue, queue: Queue, workflow: Workflow) -> Issue:
            if not is_agent(ctx) and set(changes) - {"title", "description"}:
                raise PermissionDenied(N_("Reporters can change only the title and description of their issues."))
            updated = attrs.evolve(issue, tags=list(issue.tags), custom_fields=dict(issue.custom_fields))
            for name, value in changes.items():
                setattr(updated, name, self._clean_field(queue, name, value, issue))
            return updated

        return self._change(ctx, issue_id, expected_version, "update", EventType.UPDATED.value, apply)

    def assign(self, ctx: Context, issue_id: int, expected_version: int, assignee: str | None) -> Issue:
        require_role(ctx, Role.AGENT, N_("assign issues"))

        def apply(uow: UnitOfWork, issue: Issue, queue: Queue, workflow: Workflow) -> Issue:
            if assignee is not None:
                self._check_assignable(uow, assignee)
            return attrs.evolve(issue, assignee=assignee or None)

        return self._change(ctx, issue_id, expected_version, "assign", EventType.ASSIGNED.value, apply)

    def transition(
        self,
        ctx: Context,
        issue_id: int,
        expected_version: int,
        transition: str,
        fields: dict[str, Any] | None = None,
        comment: str | None = None,
    ) -> Issue:
        """Move an issue along its workflow; `transition` is a transition key or a target state.

        `fields` may set built-in or custom fields the transition requires, in the
        same change. `comment` adds a public reply in the same transaction.
        """
        extra: dict[str, Any] = {}

        def apply(uow: UnitOfWork, issue: Issue, queue: Queue, workflow: Workflow) -> Issue:
            chosen = workflow.find_transition(issue.status, transition)
            if chosen is None:
                allowed = [t.key for t in workflow.transitions_from(issue.status)]
                raise ValidationFailed(
                    N_("Transition {value!r} is not allowed from status {status}; allowed: {choices}."),
                    value=transition,
                    status=issue.status,
                    choices=", ".join(allowed) or "-",
                )
            if not may_take(ctx, chosen, issue):
                raise PermissionDenied(
                    N_("{user} ({role}) may not take transition {transition}."),
                    user=ctx.username,
                    role=ctx.user.role.value,
                    transition=chosen.key,
                )
            updated = attrs.evolve(issue, tags=list(issue.tags), custom_fields=dict(issue.custom_fields))
            for name, value in (fields or {}).items():
                if name in F.UPDATABLE_FIELDS:
                    setattr(updated, name, self._clean_field(queue, name, value, issue))
                elif name == "assignee":
                    self._check_assignable(uow, value)
                    updated.assignee = value or None
                else:
                    updated.custom_fields[name] = value
            missing = [name for name in chosen.required_fields if F.is_empty(F.field_value(updated, name))]
            if missing:
                raise ValidationFailed(
                    N_("Transition {transition} needs these fields: {fields}."),
                    transition=chosen.key,
                    fields=", ".join(missing),
                )
            updated.status = chosen.target
            _stamp_state_times(updated, workflow, issue.status, chosen.target, self.app.clock.now())
            extra.update(transition=chosen.key, source_state=issue.status, target_state=chosen.target)
            return updated

        def after(uow: UnitOfWork, issue: Issue, now: Any) -> list[Event]:
            if not comment:
                return []
            _comment, event = self._add_comment(uow, ctx, issue, comment, CommentVisibility.PUBLIC, "web", None, now)
            return [event]

        return self._change(
            ctx, issue_id, expected_version, "transition", EventType.TRANSITIONED.value, apply, after, extra
        )

    def comment(
        self,
        ctx: Context,
        issue_id: int,
        body: str,
        visibility: str | CommentVisibility = CommentVisibility.PUBLIC,
        source: str = "web",
        external_id: str | None = None,
    ) -> Comment:
        """Add a public reply or internal note. A repeated `(source, external_id)` returns the first comment."""
        visibility = CommentVisibility(visibility)
        if not str(body or "").strip():
            raise ValidationFailed(N_("The comment is empty; write something before sending it."))
        if visibility is CommentVisibility.INTERNAL:
            require_role(ctx, Role.AGENT, N_("write internal notes"))
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            if external_id:
                existing = uow.comments.find_by_external_id(source, external_id)
                if existing is not None:
                    return existing
            issue = require_visible(ctx, uow.issues.get(issue_id), issue_id)
            comment, event = self._add_comment(uow, ctx, issue, body, visibility, source, external_id, now)
            if event.data.get("first_response"):
                expected = issue.version
                issue.version += 1
                issue.updated_at = now
                try:
                    uow.issues.update(issue, expected)
                except ConcurrencyConflict:
                    raise Conflict(key=issue.key, expected=expected, actual="?") from None
            record(self.app, uow, [event], [audit_entry(ctx.tenant_id, ctx.username, "comment.create", "issue", issue.id, now)])
            uow.commit()
        self.app.outbox.wake()
        return comment

    def link(self, ctx: Context, source_id: int, target_id: int, link_type: str | LinkType) -> Link:
        require_role(ctx, Role.AGENT, N_("link issues"))
        link_type = _parse_link_type(link_type)
        if source_id == target_id:
            raise ValidationFailed(N_("An issue cannot be linked to itself ({issue_id})."), issue_id=source_id)
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            for issue_id in (source_id, target_id):
                require_visible(ctx, uow.issues.get(issue_id), issue_id)
            for existing in uow.links.list(source_id):
                if existing.target_id == target_id and existing.type is link_type:
                    return existing
            link = uow.links.add(Link(ctx.tenant_id, source_id, target_id, link_type, ctx.username, now))
            event = make_event(
                ctx.tenant_id,
                source_id,
                EventType.LINKED.value,
                ctx.username,
                now,
                data={"target_id": target_id, "link_type": link_type.value},
            )
            record(self.app, uow, [event], [audit_entry(ctx.tenant_id, ctx.username, "link.create", "issue", source_id, now, {"target_id": target_id})])
            uow.commit()
        self.app.outbox.wake()
        return link

    # -- attachments -------------------------------------------------------------

    def attach(
        self,
        ctx: Context,
        issue_id: int,
        *,
        blob_id: str,
        filename: str,
        content_type: str,
        size: int,
        comment_id: int | None = None,
    ) -> Attachment:
        """Record the metadata of a file whose bytes the caller stored under `blob_id`.

        Anyone who may see the issue may attach to it, as with public comments. The
        metadata, its history event, audit row and outbox rows commit together.
        """
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            issue = require_visible(ctx, uow.issues.get(issue_id), issue_id)
            attachment = uow.attachments.add(
                Attachment(ctx.tenant_id, issue_id, blob_id, filename, content_type, size, ctx.username, now, comment_id)
            )
            event = make_event(
                ctx.tenant_id,
                issue_id,
                EventType.ATTACHED.value,
                ctx.username,
                now,
                data={"attachment_id": attachment.id, "filename": filename, "size": size},
            )
            audit = audit_entry(ctx.tenant_id, ctx.username, "attachment.create", "issue", issue.id, now, {"attachment_id": attachment.id})
            record(self.app, uow, [event], [audit])
            uow.commit()
        self.app.outbox.wake()
        return attachment

    def attachments(self, ctx: Context, issue_id: int) -> list[Attachment]:
        with self.app.uow(ctx.tenant_id) as uow:
            require_visible(ctx, uow.issues.get(issue_id), issue_id)
            return uow.attachments.list(issue_id)

    def attachment(self, ctx: Context, attachment_id: int) -> Attachment:
        """Return one attachment's metadata if the actor may see its issue, else `NotFound`."""
        with self.app.uow(ctx.tenant_id) as uow:
            attachment = uow.attachments.get(attachment_id)
            if attachment is None:
                raise NotFound(N_("Attachment {attachment_id} does not exist."), attachment_id=attachment_id)
            require_visible(ctx, uow.issues.get(attachment.issue_id), attachment.issue_id)
            return attachment

    def import_batch(self, ctx: Context, rows, default_queue: str | None = None):
        """Import rows keeping their source times; see `wenti.services.importing`."""
        from wenti.services.importing import import_batch

        return import_batch(self.app, ctx, rows, default_queue)

    def record_event(
        self,
        ctx: Context,
        issue_id: int,
        event_type: str,
        data: dict[str, Any] | None = None,
        changes: Sequence[Change] = (),
    ) -> Event:
        """Record an event a plugin raises (e.g. `sla.breached`) in history and the outbox.

        The issue itself is not changed and its version stays the same.
        """
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            if uow.issues.get(issue_id) is None:
                raise NotFound(N_("Issue {issue_id} does not exist."), issue_id=issue_id)
            event = make_event(ctx.tenant_id, issue_id, event_type, ctx.username, now, changes, data)
            record(self.app, uow, [event])
            uow.commit()
        self.app.outbox.wake()
        return event

    # -- shared steps ----------------------------------------------------------

    def _change(self, ctx, issue_id, expected_version, action, event_type, apply, after=None, extra=None) -> Issue:
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            issue = require_visible(ctx, uow.issues.get(issue_id), issue_id)
            if not is_agent(ctx) and action not in ("update", "transition"):
                raise PermissionDenied(N_("Reporters cannot {action} issues."), action=action)
            if issue.version != expected_version:
                raise Conflict(key=issue.key, expected=expected_version, actual=issue.version)
            queue = self._queue(uow, issue.queue)
            workflow = self._workflow(uow, queue)
            updated = apply(uow, issue, queue, workflow)
            changes = _diff(issue, updated)
            if not changes:
                return issue
            updated.version = issue.version + 1
            updated.updated_at = now
            self._validate(ctx, updated, issue, action)
            after_events = after(uow, updated, now) if after else []
            try:
                uow.issues.update(updated, expected_version)
            except ConcurrencyConflict:
                current = uow.issues.get(issue_id)
                raise Conflict(key=issue.key, expected=expected_version, actual=current.version if current else "?") from None
            event = make_event(ctx.tenant_id, issue.id, event_type, ctx.username, now, changes, dict(extra or {}))
            record(self.app, uow, [event, *after_events], [audit_entry(ctx.tenant_id, ctx.username, f"issue.{action}", "issue", issue.id, now)])
            uow.commit()
        log.info("issue %s tenant=%s issue=%s actor=%s version=%s", action, ctx.tenant_id, issue_id, ctx.username, updated.version)
        self.app.outbox.wake()
        return updated

    def _add_comment(self, uow, ctx, issue, body, visibility, source, external_id, now) -> tuple[Comment, Event]:
        """Insert a comment; set `issue.first_responded_at` in memory when this is the first response."""
        comment = uow.comments.add(
            Comment(ctx.tenant_id, issue.id, ctx.username, body, visibility, now, source, external_id)
        )
        data: dict[str, Any] = {"comment_id": comment.id, "visibility": visibility.value, "source": source}
        # The first public reply by someone other than the reporter stops the first-response clock.
        if (
            visibility is CommentVisibility.PUBLIC
            and is_agent(ctx)
            and ctx.username != issue.reporter
            and issue.first_responded_at is None
        ):
            issue.first_responded_at = now
            data["first_response"] = True
        return comment, make_event(ctx.tenant_id, issue.id, EventType.COMMENTED.value, ctx.username, now, data=data)

    def _validate(self, ctx: Context, issue: Issue, before: Issue | None, action: str) -> None:
        reasons = self.app.hooks.validate_issue_change(issue, before, ctx.user, action, self.app)
        if reasons:
            raise ValidationFailed(reasons=reasons)

    def _clean_field(self, queue: Queue, name: str, value: Any, issue: Issue) -> Any:
        if name == "title":
            return F.check_title(value)
        if name == "priority":
            return F.parse_priority(value)
        if name == "category":
            return F.check_category(queue, value)
        if name == "tags":
            return F.check_tags(value or [])
        if name == "custom_fields":
            merged = dict(issue.custom_fields)
            merged.update(value or {})
            return F.check_custom_fields(queue, merged)
        return value if value is not None else ""

    def _queue(self, uow: UnitOfWork, key: str | None) -> Queue:
        if key:
            queue = self.app.references.get("queue", uow.tenant_id, key, lambda: uow.queues.get(key))
            if queue is None:
                known = ", ".join(q.key for q in uow.queues.list()) or "-"
                raise ValidationFailed(N_("Queue {value!r} does not exist; use one of: {choices}."), value=key, choices=known)
            return queue
        queues = uow.queues.list()
        if not queues:
            raise ValidationFailed(N_("The tenant has no queue yet; create one first (wenti init creates a default queue)."))
        return queues[0]

    def _workflow(self, uow: UnitOfWork, queue: Queue) -> Workflow:
        workflow = self.app.references.get(
            "workflow", uow.tenant_id, queue.workflow_key, lambda: uow.workflows.get(queue.workflow_key)
        )
        if workflow is not None:
            return workflow
        if queue.workflow_key == "default":
            return default_workflow()
        raise ValidationFailed(
            N_("Queue {queue} uses workflow {workflow}, which does not exist; create it or change the queue."),
            queue=queue.key,
            workflow=queue.workflow_key,
        )

    def _user(self, uow: UnitOfWork, username: str) -> User | None:
        return self.app.references.get("user", uow.tenant_id, username, lambda: uow.users.get(username))

    def _check_user_exists(self, uow: UnitOfWork, username: str, role_name: str) -> None:
        if self._user(uow, username) is None:
            raise ValidationFailed(N_("User {user} does not exist in this tenant; check the user name, or ask an admin to create the user."), user=username)

    def _check_assignable(self, uow: UnitOfWork, username: str | None) -> None:
        if username is None:
            return
        user = self._user(uow, username)
        if user is None or not user.active:
            raise ValidationFailed(N_("User {user} does not exist in this tenant; check the user name, or ask an admin to create the user."), user=username)
        if not user.role.includes(Role.AGENT):
            raise ValidationFailed(N_("User {user} is a reporter and cannot be assigned issues; pick an agent."), user=username)

    def _scoped_query(self, ctx: Context, uow: UnitOfWork, query: IssueQuery) -> IssueQuery:
        """Restrict a reporter to their own issues and turn status categories into statuses."""
        if not is_agent(ctx):
            query = attrs.evolve(query, reporter=ctx.username)
        if query.status_category:
            statuses = set(query.status) if query.status else None
            wanted = set()
            workflows = {w.key: w for w in uow.workflows.list()}
            workflows.setdefault("default", default_workflow())
            for workflow in workflows.values():
                for state in workflow.states:
                    if state.category.value in query.status_category:
                        wanted.add(state.key)
            if statuses is not None:
                wanted &= statuses
            query = attrs.evolve(query, status=tuple(sorted(wanted)) or ("\x00none",), status_category=())
        return query


def _parse_link_type(value: str | LinkType) -> LinkType:
    try:
        return LinkType(value)
    except ValueError:
        raise ValidationFailed(
            N_("Unknown link type {value!r}; use one of: {choices}."),
            value=value,
            choices=", ".join(t.value for t in LinkType),
        ) from None


_DIFF_FIELDS = (
    "title",
    "description",
    "status",
    "priority",
    "category",
    "tags",
    "custom_fields",
    "assignee",
    "queue",
    "resolved_at",
    "closed_at",
    "first_responded_at",
)


def _diff(before: Issue, after: Issue) -> list[Change]:
    changes = []
    for name in _DIFF_FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes.append(Change(name, _plain(old), _plain(new)))
    return changes


def _creation_changes(issue: Issue) -> list[Change]:
    return [
        Change(name, None, _plain(getattr(issue, name)))
        for name in ("title", "status", "priority", "category", "assignee", "queue")
        if getattr(issue, name) not in (None, "")
    ]


def _plain(value: Any) -> Any:
    if hasattr(value, "value") and not isinstance(value, (str, int)):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def _stamp_state_times(issue: Issue, workflow: Workflow, source: str, target: str, now) -> None:
    """Set resolved/closed times on entering those categories; clear them on reopen."""
    target_category = F.category_of(workflow, target)
    if target_category is StateCategory.RESOLVED:
        issue.resolved_at = now
        issue.closed_at = None
    elif target_category is StateCategory.CLOSED:
        issue.closed_at = now
        if issue.resolved_at is None:
            issue.resolved_at = now
    elif target_category in (StateCategory.OPEN, StateCategory.WAITING):
        issue.resolved_at = None
        issue.closed_at = None
