"""History event ids: UUID version 7, unique, and ordered by creation time."""

from __future__ import annotations

import time
import uuid

from wenti.services.writes import new_event_id


def test_event_id_is_uuid7_hex() -> None:
    event_id = new_event_id()
    parsed = uuid.UUID(event_id)

    assert len(event_id) == 32
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_event_id_carries_current_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    event_id = new_event_id()
    after = time.time_ns() // 1_000_000

    assert before <= int(event_id[:12], 16) <= after


def test_later_event_ids_sort_after_earlier_ones() -> None:
    first = [new_event_id() for _ in range(100)]
    time.sleep(0.002)
    second = [new_event_id() for _ in range(100)]

    assert max(first) < min(second)
    assert len(set(first + second)) == 200
