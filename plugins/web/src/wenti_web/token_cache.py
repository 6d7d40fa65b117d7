"""A short-lived in-process cache of API tokens that recently passed the database check.

Without it, checking a token takes a database transaction on every API request. A cache entry
stores the token record and the SHA-256 of the secret that matched it, so a hit still
compares the presented secret and the token's own expiry, but needs no query.

Revoking a token through this process (API or settings page) removes its entry at
once, so the next request is rejected. A revocation made by another process (a
second uvicorn worker) reaches this process when the entry expires, after at most
`[plugins.web] token_cache_seconds` (5 by default, 0 switches the cache off). That
setting is at most 60, so the database check, which also records the token's
`last_used_at`, still runs at least about once a minute for a token in use.
"""

from __future__ import annotations

import hmac
import threading
import time
import weakref
from typing import Any

import attrs

from wenti_web.tokens import ApiToken, secret_hash

DEFAULT_TTL_SECONDS = 5

# Only tokens that passed the database check are stored, so invalid tokens cannot
# fill the cache. The bound guards against a very large number of valid ones.
MAX_ENTRIES = 10_000


@attrs.frozen
class _Entry:
    token: ApiToken
    secret_hash: str
    expires_at: float


class TokenCache:
    """Verified tokens by (tenant id, token id), each kept for `ttl_seconds`."""

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Counter that every invalidation increments. Pass its value to `put`."""
        return self._generation

    def get(self, tenant_id: str, token_id: str, secret: str, now: Any) -> ApiToken | None:
        """Return the cached token if the secret matches and neither entry nor token has expired."""
        if self.ttl_seconds <= 0:
            return None
        with self._lock:
            entry = self._entries.get((tenant_id, token_id))
        if entry is None or entry.expires_at <= time.monotonic():
            return None
        if not hmac.compare_digest(entry.secret_hash, secret_hash(secret)):
            return None
        if entry.token.expires_at is not None and entry.token.expires_at <= now:
            return None
        return entry.token

    def put(self, token: ApiToken, secret: str, generation: int) -> None:
        """Store a token that has just passed the database check.

        `generation` is the value of `generation` read before that check. When a
        token was revoked in between, the check may have read the row from before
        the revocation, so nothing is stored.
        """
        if self.ttl_seconds <= 0:
            return
        entry = _Entry(token, secret_hash(secret), time.monotonic() + self.ttl_seconds)
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self.max_entries:
                self._drop_expired()
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[(token.tenant_id, token.id)] = entry

    def invalidate(self, tenant_id: str, token_id: str) -> None:
        """Forget one token. Call this after the transaction that revoked it has committed."""
        with self._lock:
            self._generation += 1
            self._entries.pop((tenant_id, token_id), None)

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for key in [key for key, entry in self._entries.items() if entry.expires_at <= now]:
            del self._entries[key]


_caches: weakref.WeakKeyDictionary[Any, TokenCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def token_cache(app: Any, ttl_seconds: float | None = None) -> TokenCache:
    """Return the token cache of one `wenti.app.App`, creating it on first use.

    The cache belongs to the `App`, not to a Litestar application, so a revocation
    through any Litestar application built on the same `App` clears it.
    """
    with _caches_lock:
        cache = _caches.get(app)
        if cache is None:
            cache = TokenCache(DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds)
            _caches[app] = cache
        elif ttl_seconds is not None:
            cache.ttl_seconds = ttl_seconds
        return cache
