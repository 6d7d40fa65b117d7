"""Repositories for tenants, people, configuration, history, audit and attachments.

Each repository runs on the connection of one unit of work and adds the unit of
work's tenant to every statement. None of them commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from sqlalchemy import Connection, Table, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from wenti.domain import (
    Attachment,
    AuditEntry,
    Comment,
    Event,
    Link,
    Queue,
    State,
    Team,
    Tenant,
    Transition,
    User,
    Workflow,
)
from wenti_sql import tables
from wenti_sql.errors import DuplicateKey, RowNotFound, WrongTenant
from wenti_sql.mapping import from_row, json_safe, structure, to_row
from wenti_sql.rawinsert import RawInsert

_INSERT_EVENT = RawInsert(tables.events, ("id", "tenant_id", "issue_id", "type", "actor", "at", "changes", "data"))
_INSERT_AUDIT = RawInsert(tables.audit_log, ("tenant_id", "actor", "action", "object_type", "object_id", "at", "detail"))


def integrity_kind(error: IntegrityError) -> str:
    """Classify a driver's integrity error as `unique`, `foreign_key` or `other`."""
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate == "23505":
        return "unique"
    if sqlstate == "23503":
        return "foreign_key"
    args = getattr(original, "args", ())
    if args and isinstance(args[0], int):
        # MySQL/MariaDB error numbers: 1062 duplicate entry; 1216, 1452 foreign key.
        if args[0] == 1062:
            return "unique"
        if args[0] in (1216, 1452):
            return "foreign_key"
    text = str(original).lower()
    if "unique constraint" in text:
        return "unique"
    if "foreign key" in text:
        return "foreign_key"
    return "other"


class Repository:
    def __init__(self, connection: Connection, tenant_id: str) -> None:
        self.connection = connection
        self.tenant_id = tenant_id

    def check_tenant(self, what: str, owner: str) -> None:
        if owner != self.tenant_id:
            raise WrongTenant(what=what, owner=owner, tenant=self.tenant_id)

    @contextlib.contextmanager
    def translate_integrity(self, what: str, value: Any, missing: str = "tenant") -> Iterator[None]:
        """Turn a unique-key collision into `DuplicateKey` and a missing parent row into `RowNotFound`."""
        try:
            yield
        except IntegrityError as error:
            kind = integrity_kind(error)
            if kind == "unique":
                raise DuplicateKey(what=what, value=value, tenant=self.tenant_id) from error
            if kind == "foreign_key":
                raise RowNotFound(what=missing, value=value if missing != "tenant" else self.tenant_id, tenant=self.tenant_id) from error
            raise

    def scoped(self, table: Table) -> Any:
        return select(table).where(table.c.tenant_id == self.tenant_id)

    def update_one(self, table: Table, key_column: str, key: Any, values: dict[str, Any], what: str) -> None:
        statement = (
            update(table)
            .where(table.c.tenant_id == self.tenant_id, table.c[key_column] == key)
            .values(**values)
        )
        with self.translate_integrity(what, key):
            result = self.connection.execute(statement)
        if result.rowcount == 0:
            raise RowNotFound(what=what, value=key, tenant=self.tenant_id)


class SqlTenantRepository(Repository):
    """The tenant registry.

    `get` and `add` see only the unit of work's own tenant. `list` returns every
    tenant, because the outbox dispatcher and administration commands walk them all.
    """

    def get(self, tenant_id: str) -> Tenant | None:
        if tenant_id != self.tenant_id:
            return None
        row = self.connection.execute(self.scoped(tables.tenants)).mappings().first()
        return None if row is None else self._tenant(row)

    def add(self, tenant: Tenant) -> None:
        self.check_tenant("tenant", tenant.id)
        values = to_row(tenant)
        values["tenant_id"] = values.pop("id")
        with self.translate_integrity("tenant", tenant.id):
            self.connection.execute(insert(tables.tenants).values(**values))

    def list(self) -> list[Tenant]:
        rows = self.connection.execute(select(tables.tenants).order_by(tables.tenants.c.tenant_id)).mappings()
        return [self._tenant(row) for row in rows]

    def _tenant(self, row: Any) -> Tenant:
        return from_row(row, Tenant, id=row["tenant_id"])


class SqlUserRepository(Repository):
    def get(self, username: str) -> User | None:
        statement = self.scoped(tables.users).where(tables.users.c.username == username)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else from_row(row, User)

    def add(self, user: User) -> User:
        self.check_tenant("user", user.tenant_id)
        values = to_row(user)
        values.pop("id")
        with self.translate_integrity("user", user.username):
            result = self.connection.execute(insert(tables.users).values(**values))
        user.id = result.inserted_primary_key[0]
        return user

    def update(self, user: User) -> None:
        self.check_tenant("user", user.tenant_id)
        values = to_row(user)
        values.pop("id")
        values.pop("tenant_id")
        self.update_one(tables.users, "username", user.username, values, "user")

    def list(self) -> list[User]:
        statement = self.scoped(tables.users).order_by(tables.users.c.username)
        return [from_row(row, User) for row in self.connection.execute(statement).mappings()]


class SqlTeamRepository(Repository):
    def get(self, key: str) -> Team | None:
        statement = self.scoped(tables.teams).where(tables.teams.c.key == key)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else from_row(row, Team)

    def add(self, team: Team) -> Team:
        self.check_tenant("team", team.tenant_id)
        values = to_row(team)
        values.pop("id")
        with self.translate_integrity("team", team.key):
            result = self.connection.execute(insert(tables.teams).values(**values))
        team.id = result.inserted_primary_key[0]
        return team

    def update(self, team: Team) -> None:
        self.check_tenant("team", team.tenant_id)
        values = to_row(team)
        values.pop("id")
        values.pop("tenant_id")
        self.update_one(tables.teams, "key", team.key, values, "team")

    def list(self) -> list[Team]:
        statement = self.scoped(tables.teams).order_by(tables.teams.c.key)
        return [from_row(row, Team) for row in self.connection.execute(statement).mappings()]


class SqlQueueRepository(Repository):
    def get(self, key: str) -> Queue | None:
        statement = self.scoped(tables.queues).where(tables.queues.c.key == key)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else self._queue(row)

    def add(self, queue: Queue) -> Queue:
        self.check_tenant("queue", queue.tenant_id)
        values = self._values(queue)
        with self.translate_integrity("queue", queue.key):
            result = self.connection.execute(insert(tables.queues).values(**values))
        queue.id = result.inserted_primary_key[0]
        return queue

    def update(self, queue: Queue) -> None:
        self.check_tenant("queue", queue.tenant_id)
        values = self._values(queue)
        values.pop("tenant_id")
        self.update_one(tables.queues, "key", queue.key, values, "queue")

    def list(self) -> list[Queue]:
        statement = self.scoped(tables.queues).order_by(tables.queues.c.key)
        return [self._queue(row) for row in self.connection.execute(statement).mappings()]

    def _values(self, queue: Queue) -> dict[str, Any]:
        values = to_row(queue)
        values.pop("id")
        values["custom_fields"] = json_safe(values["custom_fields"])
        return values

    def _queue(self, row: Any) -> Queue:
        return from_row(row, Queue)


class SqlWorkflowRepository(Repository):
    def get(self, key: str) -> Workflow | None:
        statement = self.scoped(tables.workflows).where(tables.workflows.c.key == key)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else self._workflow(row)

    def put(self, workflow: Workflow) -> None:
        """Insert the workflow, or replace the stored one with the same key."""
        values = {
            "name": workflow.name,
            "initial_state": workflow.initial_state,
            "states": json_safe(workflow.states),
            "transitions": json_safe(workflow.transitions),
        }
        table = tables.workflows
        result = self.connection.execute(
            update(table).where(table.c.tenant_id == self.tenant_id, table.c.key == workflow.key).values(**values)
        )
        if result.rowcount == 0:
            with self.translate_integrity("workflow", workflow.key):
                self.connection.execute(insert(table).values(tenant_id=self.tenant_id, key=workflow.key, **values))

    def list(self) -> list[Workflow]:
        statement = self.scoped(tables.workflows).order_by(tables.workflows.c.key)
        return [self._workflow(row) for row in self.connection.execute(statement).mappings()]

    def _workflow(self, row: Any) -> Workflow:
        return Workflow(
            key=row["key"],
            name=row["name"],
            states=structure(row["states"], tuple[State, ...]),
            transitions=structure(row["transitions"], tuple[Transition, ...]),
            initial_state=row["initial_state"],
        )


class SqlCommentRepository(Repository):
    def add(self, comment: Comment) -> Comment:
        self.check_tenant("comment", comment.tenant_id)
        values = to_row(comment)
        values.pop("id")
        with self.translate_integrity("comment", comment.external_id, missing="issue"):
            result = self.connection.execute(insert(tables.comments).values(**values))
        return attrs.evolve(comment, id=result.inserted_primary_key[0])

    def list(self, issue_id: int, include_internal: bool = True) -> list[Comment]:
        table = tables.comments
        statement = self.scoped(table).where(table.c.issue_id == issue_id)
        if not include_internal:
            statement = statement.where(table.c.visibility == "public")
        statement = statement.order_by(table.c.created_at, table.c.id)
        return [from_row(row, Comment) for row in self.connection.execute(statement).mappings()]

    def find_by_external_id(self, source: str, external_id: str) -> Comment | None:
        table = tables.comments
        statement = self.scoped(table).where(table.c.source == source, table.c.external_id == external_id)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else from_row(row, Comment)


class SqlAttachmentRepository(Repository):
    def add(self, attachment: Attachment) -> Attachment:
        self.check_tenant("attachment", attachment.tenant_id)
        values = to_row(attachment)
        values.pop("id")
        with self.translate_integrity("attachment", attachment.issue_id, missing="issue"):
            result = self.connection.execute(insert(tables.attachments).values(**values))
        return attrs.evolve(attachment, id=result.inserted_primary_key[0])

    def get(self, attachment_id: int) -> Attachment | None:
        statement = self.scoped(tables.attachments).where(tables.attachments.c.id == attachment_id)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else from_row(row, Attachment)

    def list(self, issue_id: int) -> list[Attachment]:
        table = tables.attachments
        statement = self.scoped(table).where(table.c.issue_id == issue_id).order_by(table.c.id)
        return [from_row(row, Attachment) for row in self.connection.execute(statement).mappings()]


class SqlLinkRepository(Repository):
    def add(self, link: Link) -> Link:
        self.check_tenant("link", link.tenant_id)
        values = to_row(link)
        values.pop("id")
        with self.translate_integrity("link", f"{link.source_id}->{link.target_id}", missing="issue"):
            result = self.connection.execute(insert(tables.links).values(**values))
        return attrs.evolve(link, id=result.inserted_primary_key[0])

    def list(self, issue_id: int) -> list[Link]:
        """Links where the issue is the source or the target, oldest first."""
        table = tables.links
        statement = (
            self.scoped(table)
            .where(or_(table.c.source_id == issue_id, table.c.target_id == issue_id))
            .order_by(table.c.id)
        )
        return [from_row(row, Link) for row in self.connection.execute(statement).mappings()]


class SqlEventRepository(Repository):
    def add(self, event: Event) -> None:
        self.add_many([event])

    def add_many(self, events: Sequence[Event]) -> None:
        if not events:
            return
        rows = []
        for event in events:
            self.check_tenant("event", event.tenant_id)
            if not event.id:
                raise ValueError(f"event {event.type} of issue {event.issue_id} has no id; give it a uuid hex before storing it")
            rows.append(
                (
                    event.id,
                    event.tenant_id,
                    event.issue_id,
                    event.type,
                    event.actor,
                    event.at,
                    json_safe(event.changes) if event.changes else [],
                    json_safe(event.data) if event.data else {},
                )
            )
        with self.translate_integrity("event", ", ".join(event.id for event in events)):
            _INSERT_EVENT.insert_many(self.connection, rows)

    def list(self, issue_id: int) -> list[Event]:
        table = tables.events
        statement = self.scoped(table).where(table.c.issue_id == issue_id).order_by(table.c.seq)
        return [from_row(row, Event) for row in self.connection.execute(statement).mappings()]

    def get(self, event_id: str) -> Event | None:
        statement = self.scoped(tables.events).where(tables.events.c.id == event_id)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else from_row(row, Event)


class SqlAuditRepository(Repository):
    def add(self, entry: AuditEntry) -> None:
        self.add_many([entry])

    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        rows = []
        for entry in entries:
            self.check_tenant("audit entry", entry.tenant_id)
            rows.append(
                (
                    entry.tenant_id,
                    entry.actor,
                    entry.action,
                    entry.object_type,
                    entry.object_id,
                    entry.at,
                    json_safe(entry.detail) if entry.detail else {},
                )
            )
        _INSERT_AUDIT.insert_many(self.connection, rows)

    def list(self, object_type: str | None = None, object_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest entries first, optionally only those of one object type or object."""
        table = tables.audit_log
        statement = self.scoped(table)
        if object_type is not None:
            statement = statement.where(table.c.object_type == object_type)
        if object_id is not None:
            statement = statement.where(table.c.object_id == str(object_id))
        statement = statement.order_by(table.c.id.desc()).limit(limit)
        return [from_row(row, AuditEntry) for row in self.connection.execute(statement).mappings()]
