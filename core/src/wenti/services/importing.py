"""Bulk import that keeps the source's history.

`import_batch` validates every row, skips rows whose `(source, external_id)` is
already stored (so importing the same file twice adds nothing), and writes the good
rows of one batch in one transaction: the issues, one `issue.imported` history event
each, one audit row for the batch, and outbox rows. A rejected row does not stop the
others; its reason is returned with its index.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import attrs

from wenti.domain import EventType, Issue, Queue, Role, Workflow
from wenti.errors import ValidationFailed, WentiError
from wenti.i18n import N_
from wenti.services import fields as F
from wenti.services.permissions import require_role
from wenti.services.writes import audit_entry, make_event, record
from wenti.workflows import default_workflow

if TYPE_CHECKING:
    from wenti.app import App, Context

log = logging.getLogger(__name__)


@attrs.define
class ImportedIssue:
    """One row to import. Times are aware datetimes; `created_at` defaults to now."""

    title: str
    queue: str | None = None
    description: str = ""
    priority: Any = "normal"
    category: str | None = None
    tags: list[str] = attrs.Factory(list)
    custom_fields: dict[str, Any] = attrs.Factory(dict)
    status: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    source: str = "import"
    external_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


@attrs.frozen
class ImportResult:
    imported: list[int]
    duplicates: list[int]
    rejected: list[tuple[int, WentiError]]

    @property
    def counts(self) -> dict[str, int]:
        return {"imported": len(self.imported), "duplicates": len(self.duplicates), "rejected": len(self.rejected)}


def import_batch(app: App, ctx: Context, rows: Sequence[ImportedIssue], default_queue: str | None = None) -> ImportResult:
    """Import `rows` in one transaction. Indexes in the result refer to positions in `rows`.

    Unknown reporters and assignees are kept as names on the issue without creating
    accounts, because imported history often names people who never log in.
    """
    require_role(ctx, Role.AGENT, N_("import issues"))
    now = app.clock.now()
    imported: list[int] = []
    duplicates: list[int] = []
    rejected: list[tuple[int, WentiError]] = []

    with app.uow(ctx.tenant_id) as uow:
        queues = {queue.key: queue for queue in uow.queues.list()}
        workflows: dict[str, Workflow] = {}
        known = _known_external_ids(uow, rows)
        drafts: list[tuple[int, Issue]] = []
        seen: set[tuple[str, str]] = set()

        for index, row in enumerate(rows):
            key = (row.source, row.external_id) if row.external_id else None
            if key is not None and (key in known or key in seen):
                duplicates.append(index)
                continue
            try:
                queue = _pick_queue(queues, row.queue or default_queue)
                workflow = workflows.get(queue.key) or _workflow(app, uow, queue)
                workflows[queue.key] = workflow
                drafts.append((index, _draft(ctx, row, queue, workflow, now)))
            except WentiError as error:
                rejected.append((index, error))
                continue
            if key is not None:
                seen.add(key)

        stored = uow.issues.add_many([issue for _index, issue in drafts])
        events = [
            make_event(
                ctx.tenant_id,
                issue.id,
                EventType.IMPORTED.value,
                ctx.username,
                issue.created_at,
                data={"source": issue.source, "external_id": issue.external_id},
            )
            for issue in stored
        ]
        batch_audit = audit_entry(
            ctx.tenant_id, ctx.username, "issue.import", "import_batch", stored[0].id if stored else "-", now,
            {"count": len(stored), "first_id": stored[0].id if stored else None, "last_id": stored[-1].id if stored else None},
        )
        record(app, uow, events, [batch_audit] if stored else [])
        uow.commit()

    imported = [index for index, _issue in drafts]
    log.info(
        "import batch tenant=%s imported=%d duplicates=%d rejected=%d",
        ctx.tenant_id, len(imported), len(duplicates), len(rejected),
    )
    app.outbox.wake()
    return ImportResult(imported=imported, duplicates=duplicates, rejected=rejected)


def _known_external_ids(uow, rows: Sequence[ImportedIssue]) -> set[tuple[str, str]]:
    by_source: dict[str, list[str]] = {}
    for row in rows:
        if row.external_id:
            by_source.setdefault(row.source, []).append(row.external_id)
    known: set[tuple[str, str]] = set()
    for source, external_ids in by_source.items():
        for external_id in uow.issues.find_external_ids(source, external_ids):
            known.add((source, external_id))
    return known


def _pick_queue(queues: dict[str, Queue], key: str | None) -> Queue:
    if key and key in queues:
        return queues[key]
    if key:
        raise ValidationFailed(
            N_("Queue {value!r} does not exist; use one of: {choices}."), value=key, choices=", ".join(queues) or "-"
        )
    if not queues:
        raise ValidationFailed(N_("The tenant has no queue yet; create one first (wenti init creates a default queue)."))
    return next(iter(queues.values()))


def _workflow(app: App, uow, queue: Queue) -> Workflow:
    workflow = uow.workflows.get(queue.workflow_key)
    return workflow if workflow is not None else default_workflow()


def _draft(ctx: Context, row: ImportedIssue, queue: Queue, workflow: Workflow, now: datetime) -> Issue:
    status = row.status or workflow.initial_state
    F.check_status(workflow, status)
    created_at = _aware(row.created_at, "created_at") or now
    resolved_at = _aware(row.resolved_at, "resolved_at")
    closed_at = _aware(row.closed_at, "closed_at")
    for name, value in (("resolved_at", resolved_at), ("closed_at", closed_at)):
        if value is not None and value < created_at:
            raise ValidationFailed(
                N_("{field} {value} is before the creation time {created}; check the time columns and the time zone."),
                field=name,
                value=value.isoformat(),
                created=created_at.isoformat(),
            )
    return Issue(
        tenant_id=ctx.tenant_id,
        queue=queue.key,
        title=F.check_title(row.title),
        reporter=row.reporter or ctx.username,
        status=status,
        description=row.description or "",
        priority=F.parse_priority(row.priority),
        category=F.check_category(queue, row.category),
        tags=F.check_tags(row.tags),
        custom_fields=F.check_custom_fields(queue, row.custom_fields),
        assignee=row.assignee or None,
        source=row.source,
        external_id=row.external_id,
        created_at=created_at,
        updated_at=_aware(row.updated_at, "updated_at") or _latest(created_at, resolved_at, closed_at),
        resolved_at=resolved_at,
        closed_at=closed_at,
        version=1,
    )


def _latest(created_at: datetime, *others: datetime | None) -> datetime:
    latest = created_at
    for value in others:
        if value is not None and value > latest:
            latest = value
    return latest


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValidationFailed(
            N_("{field} {value} has no time zone; set `timezone` in the mapping's [source] table."),
            field=name,
            value=value.isoformat(),
        )
    return value.astimezone(timezone.utc)
