"""Injectable clocks. Everything that reads the time takes a clock, so tests can control it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FrozenClock:
    """A thread-safe clock that moves only when a test calls `advance()` or `set()`."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError(f"FrozenClock needs an aware datetime, got naive {start!r}")
        self._now = start.astimezone(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError(f"FrozenClock needs an aware datetime, got naive {when!r}")
        with self._lock:
            self._now = when.astimezone(timezone.utc)


def utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; reject naive ones, whose zone is unknown."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone; attach one before storing it")
    return value.astimezone(timezone.utc)


def to_local(value: datetime, tz_name: str) -> datetime:
    """Convert a stored UTC datetime to a tenant's time zone for display."""
    return value.astimezone(ZoneInfo(tz_name))
