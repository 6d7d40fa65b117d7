"""The outbox repository: deliveries waiting for plugins' event hook implementations.

A dispatcher takes a message with `claim`, a lease written by a conditional
UPDATE. The database runs concurrent UPDATEs of one row one after the other and
re-checks the condition for the second, so of two dispatchers that claim the same
message at the same time exactly one gets it. A lease that runs out (the
dispatcher crashed) makes the message claimable again, so delivery is at least once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from wenti.domain import DeliveryStatus, OutboxMessage
from wenti_sql import tables
from wenti_sql.mapping import from_row, json_safe, to_row
from wenti_sql.repositories import Repository

_outbox = tables.outbox
_PENDING = DeliveryStatus.PENDING.value


class SqlOutboxRepository(Repository):
    def add_many(self, messages: Sequence[OutboxMessage]) -> None:
        """Insert the messages; a pair (event_id, plugin) already stored or repeated is skipped."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for message in messages:
            self.check_tenant("outbox message", message.tenant_id)
            values = to_row(message)
            values.pop("id")
            values["payload"] = json_safe(message.payload)
            rows.setdefault((message.event_id, message.plugin), values)
        if rows:
            self.connection.execute(self._insert_ignoring_duplicates(), list(rows.values()))

    def due(self, now: datetime, limit: int = 100) -> list[OutboxMessage]:
        """Pending messages whose next attempt time has come and that no live lease holds, oldest first."""
        statement = (
            self.scoped(_outbox)
            .where(
                _outbox.c.status == _PENDING,
                or_(_outbox.c.next_attempt_at.is_(None), _outbox.c.next_attempt_at <= now),
                or_(_outbox.c.lease_until.is_(None), _outbox.c.lease_until < now),
            )
            .order_by(_outbox.c.created_at, _outbox.c.id)
            .limit(limit)
        )
        return [self._message(row) for row in self.connection.execute(statement).mappings()]

    def claim(self, message_id: int, now: datetime, lease_until: datetime) -> bool:
        """Lease a pending message until `lease_until` and count the attempt.

        Returns False when the message is not pending or another dispatcher's lease
        has not run out. The attempt is counted here, not when it fails, so a
        dispatcher that crashes mid-delivery still uses up an attempt.
        """
        statement = (
            update(_outbox)
            .where(
                _outbox.c.id == message_id,
                _outbox.c.tenant_id == self.tenant_id,
                _outbox.c.status == _PENDING,
                or_(_outbox.c.lease_until.is_(None), _outbox.c.lease_until < now),
            )
            .values(lease_until=lease_until, attempts=_outbox.c.attempts + 1)
        )
        return self.connection.execute(statement).rowcount == 1

    def mark_delivered(self, message_id: int, now: datetime) -> None:
        self._set(message_id, status=DeliveryStatus.DELIVERED.value, delivered_at=now, lease_until=None, last_error=None)

    def mark_failed(self, message_id: int, error: str, next_attempt_at: datetime | None, dead: bool) -> None:
        """Record a failed attempt: retry at `next_attempt_at`, or keep it as a dead letter."""
        status = DeliveryStatus.DEAD.value if dead else _PENDING
        self._set(message_id, status=status, last_error=error, next_attempt_at=next_attempt_at, lease_until=None)

    def retry(self, message_id: int, now: datetime) -> bool:
        """Queue a dead letter again from zero attempts; False if the message is not dead."""
        statement = (
            update(_outbox)
            .where(
                _outbox.c.id == message_id,
                _outbox.c.tenant_id == self.tenant_id,
                _outbox.c.status == DeliveryStatus.DEAD.value,
            )
            .values(status=_PENDING, attempts=0, next_attempt_at=now, lease_until=None)
        )
        return self.connection.execute(statement).rowcount == 1

    def get(self, message_id: int) -> OutboxMessage | None:
        statement = self.scoped(_outbox).where(_outbox.c.id == message_id)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else self._message(row)

    def list(self, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
        """Newest messages first, optionally only those with one status."""
        statement = self.scoped(_outbox)
        if status is not None:
            statement = statement.where(_outbox.c.status == DeliveryStatus(status).value)
        statement = statement.order_by(_outbox.c.id.desc()).limit(limit)
        return [self._message(row) for row in self.connection.execute(statement).mappings()]

    def _set(self, message_id: int, **values: Any) -> None:
        self.update_one(_outbox, "id", message_id, values, "outbox message")

    def _insert_ignoring_duplicates(self) -> Any:
        dialect = self.connection.dialect.name
        if dialect == "postgresql":
            return postgresql.insert(_outbox).on_conflict_do_nothing(index_elements=["event_id", "plugin"])
        if dialect == "sqlite":
            return sqlite.insert(_outbox).on_conflict_do_nothing(index_elements=["event_id", "plugin"])
        if dialect in ("mysql", "mariadb"):
            # Assigning a column to itself makes a duplicate a no-op; INSERT IGNORE
            # would also hide unrelated errors such as truncated values.
            statement = mysql.insert(_outbox)
            return statement.on_duplicate_key_update(event_id=statement.inserted.event_id)
        raise NotImplementedError(f"outbox inserts are not implemented for the {dialect} dialect")

    def _message(self, row: Any) -> OutboxMessage:
        return from_row(row, OutboxMessage)


