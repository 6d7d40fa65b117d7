"""The delivery queue: rows of `notify_delivery` and the statements that move them.

Every function takes a SQLAlchemy `Connection` inside a transaction that the caller
owns; none of them commits. Status moves are:

* `pending` -> `sending` when a dispatcher claims the row (with a lease),
* `sending` -> `delivered` after the channel accepted the message,
* `sending` -> `pending` with a later `next_attempt_at` after a failure or throttling,
* `sending` -> `dead` after the last attempt or a permanent failure,
* `dead` -> `pending` when an admin retries it.

A row left in `sending` by a crashed dispatcher becomes due again when its lease
ends, so it is sent once more with the same `message_id`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from wenti_notify.schema import deliveries

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
DEAD = "dead"
STATUSES = (PENDING, SENDING, DELIVERED, DEAD)


def message_id_for(tenant_id: str, event_id: str, channel: str, recipient: str) -> str:
    """Derive the stable message id of one delivery from its idempotency key."""
    key = "\x1f".join((tenant_id, event_id, channel, recipient)).encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:32]


@attrs.frozen
class NewDelivery:
    """A message that routing decided to send; `message` is the rendered payload."""

    tenant_id: str
    event_id: str
    event_type: str
    issue_id: int | None
    channel: str
    recipient: str
    message: dict[str, Any]

    @property
    def message_id(self) -> str:
        return message_id_for(self.tenant_id, self.event_id, self.channel, self.recipient)


@attrs.frozen
class Delivery:
    """One stored row of the delivery queue."""

    id: int
    tenant_id: str
    message_id: str
    event_id: str
    event_type: str
    issue_id: int | None
    channel: str
    recipient: str
    message: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime | None
    lease_until: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Return the row as JSON-ready values for the CLI, the web admin page and the REST API."""
        data = attrs.asdict(self)
        for name in ("next_attempt_at", "lease_until", "created_at", "delivered_at"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        return data


def _row_to_delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        tenant_id=row.tenant_id,
        message_id=row.message_id,
        event_id=row.event_id,
        event_type=row.event_type,
        issue_id=row.issue_id,
        channel=row.channel,
        recipient=row.recipient,
        message=json.loads(row.payload),
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        lease_until=row.lease_until,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def enqueue(conn: Connection, items: Sequence[NewDelivery], now: datetime) -> int:
    """Insert the deliveries not queued before; return how many rows were added.

    A delivery whose `message_id` exists already is skipped, so routing an event a
    second time adds nothing. When a concurrent router inserts the same row between
    the check and the insert, the unique key makes this insert fail. The rows are
    then inserted one at a time inside savepoints, and the duplicates are skipped.
    """
    if not items:
        return 0
    wanted = {item.message_id: item for item in items}
    existing = set(
        conn.execute(select(deliveries.c.message_id).where(deliveries.c.message_id.in_(list(wanted)))).scalars()
    )
    rows = [_insert_values(item, now) for message_id, item in wanted.items() if message_id not in existing]
    if not rows:
        return 0
    try:
        with conn.begin_nested():
            conn.execute(deliveries.insert(), rows)
        return len(rows)
    except IntegrityError:
        added = 0
        for row in rows:
            try:
                with conn.begin_nested():
                    conn.execute(deliveries.insert(), [row])
                added += 1
            except IntegrityError:
                continue
        return added


def _insert_values(item: NewDelivery, now: datetime) -> dict[str, Any]:
    message = dict(item.message)
    message["id"] = item.message_id
    return {
        "tenant_id": item.tenant_id,
        "message_id": item.message_id,
        "event_id": item.event_id,
        "event_type": item.event_type,
        "issue_id": item.issue_id,
        "channel": item.channel,
        "recipient": item.recipient,
        "payload": json.dumps(message, ensure_ascii=False, sort_keys=True),
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "last_error": None,
        "created_at": now,
        "delivered_at": None,
    }


def _due_condition(now: datetime) -> Any:
    return or_(
        and_(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now),
        and_(deliveries.c.status == SENDING, deliveries.c.lease_until <= now),
    )


def due(conn: Connection, tenant_id: str, now: datetime, limit: int) -> list[Delivery]:
    """Rows whose next attempt has come, or whose lease expired, oldest first."""
    query = (
        select(deliveries)
        .where(deliveries.c.tenant_id == tenant_id, _due_condition(now))
        .order_by(deliveries.c.id)
        .limit(limit)
    )
    return [_row_to_delivery(row) for row in conn.execute(query)]


def due_tenants(conn: Connection, now: datetime) -> list[str]:
    """Tenants that have due rows; the dispatcher reads this across tenants on purpose."""
    query = select(deliveries.c.tenant_id).where(_due_condition(now)).distinct()
    return sorted(conn.execute(query).scalars())


def claim(conn: Connection, delivery_id: int, now: datetime, lease_until: datetime) -> bool:
    """Take a lease on a due row; False when another dispatcher took it first."""
    result = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, _due_condition(now))
        .values(status=SENDING, lease_until=lease_until)
    )
    return result.rowcount == 1


def claim_many(conn: Connection, delivery_ids: Sequence[int], now: datetime, lease_until: datetime) -> list[int]:
    """Take leases on several due rows in two statements; returns the ids this call took.

    `lease_until` doubles as the claim's token: rows another dispatcher took in
    between keep their own lease time and are left out.
    """
    if not delivery_ids:
        return []
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(list(delivery_ids)), _due_condition(now))
        .values(status=SENDING, lease_until=lease_until)
    )
    taken = conn.execute(
        select(deliveries.c.id).where(
            deliveries.c.id.in_(list(delivery_ids)),
            deliveries.c.status == SENDING,
            deliveries.c.lease_until == lease_until,
        )
    )
    return sorted(taken.scalars())


def mark_delivered(conn: Connection, delivery_ids: int | Sequence[int], now: datetime) -> None:
    """Mark one row or several rows delivered."""
    ids = [delivery_ids] if isinstance(delivery_ids, int) else list(delivery_ids)
    if not ids:
        return
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(ids))
        .values(
            status=DELIVERED,
            attempts=deliveries.c.attempts + 1,
            delivered_at=now,
            lease_until=None,
            last_error=None,
        )
    )


def mark_failed(conn: Connection, delivery_id: int, error: str, next_attempt_at: datetime | None, dead: bool) -> None:
    """Count a failed attempt; `dead` ends retrying, otherwise retry at `next_attempt_at`."""
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(
            status=DEAD if dead else PENDING,
            attempts=deliveries.c.attempts + 1,
            next_attempt_at=None if dead else next_attempt_at,
            lease_until=None,
            last_error=error[:2000],
        )
    )


def postpone(conn: Connection, delivery_id: int, next_attempt_at: datetime, reason: str) -> None:
    """Put a row back without counting an attempt (the channel was throttled, not broken)."""
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(status=PENDING, next_attempt_at=next_attempt_at, lease_until=None, last_error=reason[:2000])
    )


def retry(conn: Connection, tenant_id: str, delivery_id: int, now: datetime) -> bool:
    """Queue a dead or pending row for an immediate new series of attempts."""
    result = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.tenant_id == tenant_id,
            deliveries.c.id == delivery_id,
            deliveries.c.status.in_((DEAD, PENDING)),
        )
        .values(status=PENDING, attempts=0, next_attempt_at=now, lease_until=None)
    )
    return result.rowcount == 1


def get(conn: Connection, tenant_id: str, delivery_id: int) -> Delivery | None:
    row = conn.execute(
        select(deliveries).where(deliveries.c.tenant_id == tenant_id, deliveries.c.id == delivery_id)
    ).first()
    return _row_to_delivery(row) if row is not None else None


def list_deliveries(
    conn: Connection,
    tenant_id: str,
    *,
    status: str | None = None,
    channel: str | None = None,
    recipient: str | None = None,
    issue_id: int | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """Rows of one tenant, newest first, filtered by whichever arguments are given."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown delivery status {status!r}; expected one of {', '.join(STATUSES)}")
    query = select(deliveries).where(deliveries.c.tenant_id == tenant_id)
    if status is not None:
        query = query.where(deliveries.c.status == status)
    if channel is not None:
        query = query.where(deliveries.c.channel == channel)
    if recipient is not None:
        query = query.where(deliveries.c.recipient == recipient)
    if issue_id is not None:
        query = query.where(deliveries.c.issue_id == issue_id)
    query = query.order_by(deliveries.c.id.desc()).limit(limit)
    return [_row_to_delivery(row) for row in conn.execute(query)]


def count_by_status(conn: Connection, tenant_id: str) -> dict[str, int]:
    query = (
        select(deliveries.c.status, func.count())
        .where(deliveries.c.tenant_id == tenant_id)
        .group_by(deliveries.c.status)
    )
    counts = {status: 0 for status in STATUSES}
    counts.update({status: count for status, count in conn.execute(query)})
    return counts
