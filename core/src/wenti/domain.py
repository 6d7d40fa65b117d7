"""Domain model: the things wenti records, as attrs classes.

This module imports neither cattrs nor SQLAlchemy. Values that never change after
they are made (workflow states, transitions, events) are frozen; an issue is a
mutable entity whose `version` counts committed changes.

All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs


class Role(str, enum.Enum):
    """A user's role inside one tenant. Each role includes the rights of the one before."""

    REPORTER = "reporter"
    AGENT = "agent"
    QUEUE_MANAGER = "queue_manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.REPORTER: 0, Role.AGENT: 1, Role.QUEUE_MANAGER: 2, Role.ADMIN: 3}


class StateCategory(str, enum.Enum):
    """Category of a workflow state, which SLA clocks and reports read."""

    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(str, enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """1 is the most urgent."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.CRITICAL: 1, Priority.HIGH: 2, Priority.NORMAL: 3, Priority.LOW: 4}


class CommentVisibility(str, enum.Enum):
    PUBLIC = "public"
    INTERNAL = "internal"


class LinkType(str, enum.Enum):
    DUPLICATE_OF = "duplicate_of"
    CAUSED_BY = "caused_by"
    RELATED = "related"


class EventType(str, enum.Enum):
    """Kinds of history events. Plugins may record other strings too."""

    CREATED = "issue.created"
    UPDATED = "issue.updated"
    TRANSITIONED = "issue.transitioned"
    ASSIGNED = "issue.assigned"
    COMMENTED = "issue.commented"
    LINKED = "issue.linked"
    ATTACHED = "issue.attached"
    IMPORTED = "issue.imported"


@attrs.frozen
class Tenant:
    id: str
    name: str
    locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    created_at: datetime | None = None


@attrs.define
class User:
    tenant_id: str
    username: str
    display_name: str
    role: Role = Role.REPORTER
    email: str | None = None
    locale: str | None = None
    active: bool = True
    id: int | None = None
    created_at: datetime | None = None


@attrs.define
class Team:
    tenant_id: str
    key: str
    name: str
    members: list[str] = attrs.Factory(list)
    id: int | None = None


@attrs.frozen
class State:
    key: str
    name: str
    category: StateCategory = StateCategory.OPEN


@attrs.frozen
class Transition:
    """A permitted move between two states.

    `allowed_roles` is the minimum set of roles that may take it; an empty tuple means
    any agent or above. `required_fields` are issue fields that must be non-empty after
    the transition (the transition command may set them in the same change).
    """

    key: str
    name: str
    source: str
    target: str
    allowed_roles: tuple[Role, ...] = ()
    required_fields: tuple[str, ...] = ()


@attrs.frozen
class Workflow:
    key: str
    name: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    initial_state: str

    def state(self, key: str) -> State | None:
        for state in self.states:
            if state.key == key:
                return state
        return None

    def transitions_from(self, state_key: str) -> list[Transition]:
        return [t for t in self.transitions if t.source == state_key or t.source == "*"]

    def find_transition(self, source: str, target_or_key: str) -> Transition | None:
        for transition in self.transitions_from(source):
            if transition.key == target_or_key or transition.target == target_or_key:
                return transition
        return None


@attrs.define
class Queue:
    tenant_id: str
    key: str
    name: str
    workflow_key: str = "default"
    team_key: str | None = None
    manager: str | None = None
    categories: list[str] = attrs.Factory(list)
    custom_fields: list[CustomFieldDef] = attrs.Factory(list)
    id: int | None = None


@attrs.frozen
class CustomFieldDef:
    """A custom field a queue offers. `kind` is one of text, number, choice, date."""

    key: str
    label: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    required: bool = False


@attrs.define
class Issue:
    tenant_id: str
    queue: str
    title: str
    reporter: str
    status: str
    description: str = ""
    priority: Priority = Priority.NORMAL
    category: str | None = None
    tags: list[str] = attrs.Factory(list)
    custom_fields: dict[str, Any] = attrs.Factory(dict)
    assignee: str | None = None
    source: str = "web"
    external_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    first_responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 0
    id: int | None = None

    @property
    def key(self) -> str:
        """The human-facing key, such as `IT-42`. Stable once the issue is stored."""
        return f"{self.queue.upper()}-{self.id}" if self.id is not None else ""


@attrs.frozen
class Comment:
    tenant_id: str
    issue_id: int
    author: str
    body: str
    visibility: CommentVisibility = CommentVisibility.PUBLIC
    created_at: datetime | None = None
    source: str = "web"
    external_id: str | None = None
    id: int | None = None


@attrs.frozen
class Attachment:
    """Metadata of a stored file; the bytes live in a blob store under `blob_id`."""

    tenant_id: str
    issue_id: int
    blob_id: str
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    created_at: datetime | None = None
    comment_id: int | None = None
    id: int | None = None


@attrs.frozen
class Link:
    tenant_id: str
    source_id: int
    target_id: int
    type: LinkType
    created_by: str
    created_at: datetime | None = None
    id: int | None = None


@attrs.frozen
class Change:
    """One field's value before and after a change."""

    field: str
    before: Any
    after: Any


@attrs.frozen
class Event:
    """A committed change to an issue: the history row, also the payload of event hooks."""

    tenant_id: str
    issue_id: int
    type: str
    actor: str
    at: datetime
    changes: tuple[Change, ...] = ()
    data: dict[str, Any] = attrs.Factory(dict)
    id: str = ""


@attrs.frozen
class AuditEntry:
    """Record of an actor's action on an object, kept apart from issue history for governance."""

    tenant_id: str
    actor: str
    action: str
    object_type: str
    object_id: str
    at: datetime
    detail: dict[str, Any] = attrs.Factory(dict)
    id: int | None = None


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@attrs.define
class OutboxMessage:
    """One event waiting to be delivered to one plugin's event hook implementation."""

    tenant_id: str
    event_id: str
    hook: str
    plugin: str
    payload: dict[str, Any]
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    id: int | None = None
