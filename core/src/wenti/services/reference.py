"""A short-lived cache of queues, workflows and users, which every issue write reads.

These rows change rarely, but looking them up cost more than half of the time of
creating an issue. The admin service clears a tenant's entries whenever it changes
one of them, so changes made in this process show at once. A change made by
another process (a second web worker, the command line) shows after at most
`ttl_seconds`. Until then a deactivated user can still be assigned in this process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_TTL_SECONDS = 5.0

_MISSING = object()


class ReferenceCache:
    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[tuple[str, str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, tenant_id: str, key: str, load: Callable[[], T]) -> T:
        """Return the cached value, or call `load()` and cache what it returns (None too)."""
        cache_key = (kind, tenant_id, key)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(cache_key, _MISSING)
        if entry is not _MISSING and entry[0] > now:
            return entry[1]
        value = load()
        with self._lock:
            self._entries[cache_key] = (now + self.ttl_seconds, value)
        return value

    def peek(self, kind: str, tenant_id: str, key: str) -> tuple[bool, Any]:
        """Return (True, value) for a fresh entry, else (False, None), without loading.

        For callers that must not do I/O, such as code running on an event loop.
        """
        with self._lock:
            entry = self._entries.get((kind, tenant_id, key), _MISSING)
        if entry is _MISSING or entry[0] <= time.monotonic():
            return False, None
        return True, entry[1]

    def invalidate(self, tenant_id: str) -> None:
        """Forget every entry of one tenant."""
        with self._lock:
            for cache_key in [k for k in self._entries if k[1] == tenant_id]:
                del self._entries[cache_key]
