"""Request and response bodies of the REST API, as attrs classes.

Litestar generates the OpenAPI 3.1 schema from these classes. Input classes list
every accepted field; `api.parsing.reject_unknown_fields` turns any other key into
a 400, because attrs classes alone would drop unknown keys silently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from wenti.domain import Attachment, Comment, Event, Issue, Link, Queue, Team, Transition, User, Workflow

from wenti_web.translation import translate_any

# -- issues --------------------------------------------------------------------


@attrs.define
class IssueOut:
    id: int
    key: str
    queue: str
    title: str
    description: str
    status: str
    priority: str
    category: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    reporter: str
    assignee: str | None
    source: str
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, issue: Issue) -> IssueOut:
        return cls(
            id=issue.id or 0,
            key=issue.key,
            queue=issue.queue,
            title=issue.title,
            description=issue.description,
            status=issue.status,
            priority=issue.priority.value,
            category=issue.category,
            tags=list(issue.tags),
            custom_fields=dict(issue.custom_fields),
            reporter=issue.reporter,
            assignee=issue.assignee,
            source=issue.source,
            version=issue.version,
            created_at=issue.created_at,
            updated_at=issue.updated_at,
            first_responded_at=issue.first_responded_at,
            resolved_at=issue.resolved_at,
            closed_at=issue.closed_at,
        )


@attrs.define
class IssuePage:
    items: list[IssueOut]
    next_cursor: str | None
    total: int | None = None


@attrs.define
class IssueCreate:
    title: str
    queue: str | None = None
    description: str = ""
    priority: str = "normal"
    category: str | None = None
    tags: list[str] = attrs.Factory(list)
    custom_fields: dict[str, Any] = attrs.Factory(dict)
    assignee: str | None = None
    reporter: str | None = None
    external_id: str | None = None


@attrs.define
class IssuePatch:
    """Fields to change; fields left out keep their value."""

    title: str | None = None
    description: str | None = None
    priority: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None


@attrs.define
class TransitionRequest:
    transition: str
    fields: dict[str, Any] = attrs.Factory(dict)
    comment: str | None = None


@attrs.define
class AssignRequest:
    assignee: str | None


@attrs.define
class TransitionOut:
    key: str
    name: str
    source: str
    target: str
    required_fields: list[str]

    @classmethod
    def of(cls, transition: Transition, locale: str) -> TransitionOut:
        return cls(
            key=transition.key,
            name=translate_any(transition.name, locale),
            source=transition.source,
            target=transition.target,
            required_fields=list(transition.required_fields),
        )


# -- comments, links, history, attachments -------------------------------------


@attrs.define
class CommentCreate:
    body: str
    visibility: str = "public"


@attrs.define
class CommentOut:
    id: int
    issue_id: int
    author: str
    body: str
    visibility: str
    source: str
    created_at: datetime | None

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(
            id=comment.id or 0,
            issue_id=comment.issue_id,
            author=comment.author,
            body=comment.body,
            visibility=comment.visibility.value,
            source=comment.source,
            created_at=comment.created_at,
        )


@attrs.define
class LinkCreate:
    target_id: int
    type: str


@attrs.define
class LinkOut:
    id: int
    source_id: int
    target_id: int
    type: str
    created_by: str
    created_at: datetime | None

    @classmethod
    def of(cls, link: Link) -> LinkOut:
        return cls(
            id=link.id or 0,
            source_id=link.source_id,
            target_id=link.target_id,
            type=link.type.value,
            created_by=link.created_by,
            created_at=link.created_at,
        )


@attrs.define
class ChangeOut:
    field: str
    before: Any
    after: Any


@attrs.define
class EventOut:
    id: str
    type: str
    actor: str
    at: datetime
    changes: list[ChangeOut]
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls(
            id=event.id,
            type=event.type,
            actor=event.actor,
            at=event.at,
            changes=[ChangeOut(c.field, _plain(c.before), _plain(c.after)) for c in event.changes],
            data=dict(event.data),
        )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@attrs.define
class AttachmentOut:
    id: int
    issue_id: int
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    created_at: datetime | None
    download_url: str

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.id or 0,
            issue_id=attachment.issue_id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            uploaded_by=attachment.uploaded_by,
            created_at=attachment.created_at,
            download_url=f"/api/v1/attachments/{attachment.id}/content",
        )


# -- queues, workflows ---------------------------------------------------------


@attrs.define
class CustomFieldOut:
    key: str
    label: str
    kind: str
    choices: list[str]
    required: bool


@attrs.define
class QueueOut:
    key: str
    name: str
    workflow_key: str
    team_key: str | None
    manager: str | None
    categories: list[str]
    custom_fields: list[CustomFieldOut]

    @classmethod
    def of(cls, queue: Queue) -> QueueOut:
        return cls(
            key=queue.key,
            name=queue.name,
            workflow_key=queue.workflow_key,
            team_key=queue.team_key,
            manager=queue.manager,
            categories=list(queue.categories),
            custom_fields=[CustomFieldOut(f.key, f.label, f.kind, list(f.choices), f.required) for f in queue.custom_fields],
        )


@attrs.define
class StateOut:
    key: str
    name: str
    category: str


@attrs.define
class WorkflowTransitionOut:
    key: str
    name: str
    source: str
    target: str
    allowed_roles: list[str]
    required_fields: list[str]


@attrs.define
class WorkflowOut:
    key: str
    name: str
    initial_state: str
    states: list[StateOut]
    transitions: list[WorkflowTransitionOut]

    @classmethod
    def of(cls, workflow: Workflow, locale: str) -> WorkflowOut:
        return cls(
            key=workflow.key,
            name=translate_any(workflow.name, locale),
            initial_state=workflow.initial_state,
            states=[StateOut(s.key, translate_any(s.name, locale), s.category.value) for s in workflow.states],
            transitions=[
                WorkflowTransitionOut(
                    t.key,
                    translate_any(t.name, locale),
                    t.source,
                    t.target,
                    [r.value for r in t.allowed_roles],
                    list(t.required_fields),
                )
                for t in workflow.transitions
            ],
        )


# -- users, teams, tokens ------------------------------------------------------


@attrs.define
class UserOut:
    username: str
    display_name: str
    role: str
    email: str | None
    locale: str | None
    active: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(user.username, user.display_name, user.role.value, user.email, user.locale, user.active)


@attrs.define
class UserCreate:
    username: str
    display_name: str | None = None
    role: str = "reporter"
    email: str | None = None
    locale: str | None = None
    password: str | None = None


@attrs.define
class UserPatch:
    display_name: str | None = None
    role: str | None = None
    email: str | None = None
    locale: str | None = None
    active: bool | None = None
    password: str | None = None


@attrs.define
class TeamOut:
    key: str
    name: str
    members: list[str]

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        return cls(team.key, team.name, list(team.members))


@attrs.define
class TeamCreate:
    key: str
    name: str
    members: list[str] = attrs.Factory(list)


@attrs.define
class TeamPatch:
    name: str | None = None
    members: list[str] | None = None


@attrs.define
class MeOut:
    tenant_id: str
    user: UserOut
    locale: str
    timezone: str
    authenticated_by: str


@attrs.define
class TokenCreate:
    name: str
    scopes: list[str] = attrs.Factory(lambda: ["read", "write"])
    expires_in_days: int | None = None


@attrs.define
class TokenOut:
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


@attrs.define
class TokenCreated:
    """The new token. `token` is shown only in this response; store it safely."""

    token: str
    info: TokenOut


# -- errors --------------------------------------------------------------------


@attrs.define
class ProblemDetails:
    """An RFC 9457 problem: `type` is stable, `title` and `detail` are in the caller's language."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[str] | None = None
