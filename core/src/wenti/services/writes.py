"""What every write shares: the history event, the audit row and the outbox rows.

The service layer builds one `ChangeSet` per command and `record()` writes it in the
caller's unit of work, so the change and everything derived from it commit together.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wenti.converter import to_dict
from wenti.domain import AuditEntry, Change, Event, OutboxMessage
from wenti.store import UnitOfWork

if TYPE_CHECKING:
    from wenti.app import App

EVENT_HOOK = "issue_event"


def new_event_id() -> str:
    """Return a new UUID version 7 (RFC 9562) as 32 hex digits.

    Version 7 starts with the Unix time in milliseconds, so new ids sort after older
    ones. Each insert therefore lands at the end of the event table's unique index,
    not on a random page of it as with version 4 ids.
    """
    milliseconds = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    value = (
        (milliseconds & _MASK_48) << 80
        | 0x7 << 76  # version
        | (random_bits >> 68) << 64  # 12 random bits
        | 0b10 << 62  # variant
        | random_bits & _MASK_62
    )
    return f"{value:032x}"


_MASK_48 = (1 << 48) - 1
_MASK_62 = (1 << 62) - 1


def make_event(
    tenant_id: str,
    issue_id: int,
    event_type: str,
    actor: str,
    at: datetime,
    changes: Sequence[Change] = (),
    data: dict[str, Any] | None = None,
) -> Event:
    return Event(
        tenant_id=tenant_id,
        issue_id=issue_id,
        type=event_type,
        actor=actor,
        at=at,
        changes=tuple(changes),
        data=dict(data or {}),
        id=new_event_id(),
    )


def outbox_messages(app: App, events: Sequence[Event]) -> list[OutboxMessage]:
    """One message per event and per plugin that implements the event hook."""
    subscribers = [plugin for plugin, _impl in app.hooks.event_hook_impls(EVENT_HOOK)]
    if not subscribers:
        return []
    messages = []
    for event in events:
        payload = to_dict(event)
        for plugin in subscribers:
            messages.append(
                OutboxMessage(
                    tenant_id=event.tenant_id,
                    event_id=event.id,
                    hook=EVENT_HOOK,
                    plugin=plugin,
                    payload=payload,
                    created_at=event.at,
                    next_attempt_at=event.at,
                )
            )
    return messages


def record(
    app: App,
    uow: UnitOfWork,
    events: Sequence[Event],
    audit: Sequence[AuditEntry] = (),
) -> None:
    """Write history events, audit rows and outbox rows in `uow` (not committed here)."""
    if events:
        uow.events.add_many(events)
        messages = outbox_messages(app, events)
        if messages:
            uow.outbox.add_many(messages)
    if audit:
        uow.audit.add_many(audit)


def audit_entry(
    tenant_id: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry(
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        at=at,
        detail=dict(detail or {}),
    )
