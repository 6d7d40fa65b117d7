"""The storage protocol the service layer needs.

A storage backend (registered through the `register_storage_backends` hook) opens a
`Store`. A `Store` hands out units of work; a unit of work is one transaction, bound
to one tenant, with one repository per aggregate. Repositories never commit: the
unit of work owns commit and rollback. Every repository method filters by the unit
of work's tenant, so no call can read or write another tenant's rows.

`wenti.testing.contract` contains the test suite every backend must pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from wenti.domain import (
    Attachment,
    AuditEntry,
    Comment,
    Event,
    Issue,
    Link,
    OutboxMessage,
    Queue,
    Team,
    Tenant,
    User,
    Workflow,
)

SORTABLE_FIELDS = ("id", "created_at", "updated_at", "priority", "status", "title", "resolved_at")


@attrs.frozen
class IssueQuery:
    """Filters, sort and page of an issue list. Empty filters match everything.

    `sort` is a sequence of field names from `SORTABLE_FIELDS`, each optionally
    prefixed with `-` for descending order; `id` is always appended as the final
    tie-breaker so cursor pagination is stable. `priority` sorts by rank, most
    urgent first. `after` is an opaque cursor returned by a previous page.
    """

    queue: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    status_category: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()
    unassigned: bool = False
    reporter: str | None = None
    priority: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    tag: str | None = None
    source: str | None = None
    text: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    ids: tuple[int, ...] | None = None
    extra: dict[str, Any] = attrs.Factory(dict)
    sort: tuple[str, ...] = ("-created_at",)
    limit: int = 50
    after: str | None = None


@attrs.frozen
class Page:
    items: list[Issue]
    next_cursor: str | None
    total: int | None = None


class ConcurrencyConflict(Exception):
    """Raised by a repository when an update's expected version is not the stored one."""


class TenantRepository(Protocol):
    def get(self, tenant_id: str) -> Tenant | None: ...
    def add(self, tenant: Tenant) -> None: ...

    def list(self) -> list[Tenant]:
        """Return every tenant. This is the one read that crosses tenants; system tasks such as
        the outbox dispatcher use it to visit each tenant in turn."""
        ...


class UserRepository(Protocol):
    def get(self, username: str) -> User | None: ...
    def add(self, user: User) -> User: ...
    def update(self, user: User) -> None: ...
    def list(self) -> list[User]: ...


class TeamRepository(Protocol):
    def get(self, key: str) -> Team | None: ...
    def add(self, team: Team) -> Team: ...
    def update(self, team: Team) -> None: ...
    def list(self) -> list[Team]: ...


class QueueRepository(Protocol):
    def get(self, key: str) -> Queue | None: ...
    def add(self, queue: Queue) -> Queue: ...
    def update(self, queue: Queue) -> None: ...
    def list(self) -> list[Queue]: ...


class WorkflowRepository(Protocol):
    def get(self, key: str) -> Workflow | None: ...
    def put(self, workflow: Workflow) -> None: ...
    def list(self) -> list[Workflow]: ...


class IssueRepository(Protocol):
    def get(self, issue_id: int) -> Issue | None: ...

    def add(self, issue: Issue) -> Issue:
        """Insert and return the issue with its new `id`."""
        ...

    def add_many(self, issues: Sequence[Issue]) -> list[Issue]:
        """Insert several issues in one statement where the backend can."""
        ...

    def update(self, issue: Issue, expected_version: int) -> None:
        """Write `issue` only if the stored version is `expected_version`.

        Raises `ConcurrencyConflict` otherwise. The caller sets `issue.version`.
        """
        ...

    def find_by_external_id(self, source: str, external_id: str) -> Issue | None: ...
    def find_external_ids(self, source: str, external_ids: Iterable[str]) -> dict[str, int]: ...
    def list(self, query: IssueQuery) -> Page: ...
    def count(self, query: IssueQuery) -> int: ...

    def count_by(self, fields: Sequence[str], query: IssueQuery) -> dict[tuple[Any, ...], int]:
        """Count matching issues grouped by the given fields (e.g. category, status)."""
        ...

    def iter_all(self, query: IssueQuery, batch_size: int = 1000) -> Iterator[Issue]: ...


class CommentRepository(Protocol):
    def add(self, comment: Comment) -> Comment: ...
    def list(self, issue_id: int, include_internal: bool = True) -> list[Comment]: ...
    def find_by_external_id(self, source: str, external_id: str) -> Comment | None: ...


class AttachmentRepository(Protocol):
    def add(self, attachment: Attachment) -> Attachment: ...
    def get(self, attachment_id: int) -> Attachment | None: ...
    def list(self, issue_id: int) -> list[Attachment]: ...


class LinkRepository(Protocol):
    def add(self, link: Link) -> Link: ...
    def list(self, issue_id: int) -> list[Link]: ...


class EventRepository(Protocol):
    def add(self, event: Event) -> None: ...
    def add_many(self, events: Sequence[Event]) -> None: ...
    def list(self, issue_id: int) -> list[Event]: ...
    def get(self, event_id: str) -> Event | None: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def add_many(self, entries: Sequence[AuditEntry]) -> None: ...
    def list(self, object_type: str | None = None, object_id: str | None = None, limit: int = 100) -> list[AuditEntry]: ...


class OutboxRepository(Protocol):
    """Pending deliveries of events to plugins' event hook implementations.

    `(event_id, plugin)` is unique: adding the same pair twice is ignored, which is
    what keeps a retried write from queueing a second delivery.
    """

    def add_many(self, messages: Sequence[OutboxMessage]) -> None: ...

    def due(self, now: datetime, limit: int = 100) -> list[OutboxMessage]:
        """Pending messages whose next attempt time has come, oldest first."""
        ...

    def claim(self, message_id: int, now: datetime, lease_until: datetime) -> bool:
        """Take a lease on a pending message; False when another dispatcher holds it."""
        ...

    def mark_delivered(self, message_id: int, now: datetime) -> None: ...

    def mark_failed(self, message_id: int, error: str, next_attempt_at: datetime | None, dead: bool) -> None: ...
    def retry(self, message_id: int, now: datetime) -> bool: ...
    def get(self, message_id: int) -> OutboxMessage | None: ...
    def list(self, status: str | None = None, limit: int = 100) -> list[OutboxMessage]: ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One transaction for one tenant. Use as a context manager.

    Leaving the block without `commit()` rolls back. `tenant_id` is fixed for the
    life of the unit of work.
    """

    tenant_id: str
    tenants: TenantRepository
    users: UserRepository
    teams: TeamRepository
    queues: QueueRepository
    workflows: WorkflowRepository
    issues: IssueRepository
    comments: CommentRepository
    attachments: AttachmentRepository
    links: LinkRepository
    events: EventRepository
    audit: AuditRepository
    outbox: OutboxRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc_info: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...

    def sql_connection(self) -> Any:
        """Return the SQLAlchemy `Connection` of this transaction, for plugins that own tables.

        Raises `NotImplementedError` on a backend that is not SQL.
        """
        ...


class Store(Protocol):
    """An open storage backend."""

    name: str

    def unit_of_work(self, tenant_id: str, *, readonly: bool = False) -> UnitOfWork:
        """Open a unit of work (one transaction) for `tenant_id`.

        `readonly=True` promises that the caller only reads, so the store may run the
        transaction beside writers (the SQL store on SQLite takes no write lock for
        it). A store may ignore the flag. Writing in a read-only unit of work is a
        programming error whose outcome depends on the store.
        """
        ...

    def upgrade(self) -> None:
        """Create or migrate the schema (core tables and every plugin's tables)."""
        ...

    def close(self) -> None: ...
