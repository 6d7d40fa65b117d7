"""The `webhook` notification channel: one signed HTTP POST per delivery.

The notify plugin queues one delivery per subscribed endpoint (`targets()` returns
the endpoints that subscribe to an event) and calls the channel to send it. The body is a
Standard Webhooks payload (`type`, `timestamp`, `data`), the same bytes on every
attempt, and `webhook-id` is the delivery's stable message id, so a receiver can
drop repeats.

Outcomes: a 2xx answer is success. 410 Gone disables the endpoint and ends the
delivery. 429 or 503 with `Retry-After` postpone it without counting an attempt.
Any other status (redirects are not followed), a timeout or a broken connection
is a failed attempt, retried on `RETRY_SCHEDULE`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import select

from wenti_webhooks.config import RETRY_SCHEDULE, Endpoint, WebhooksConfig
from wenti_webhooks.schema import attempts, endpoint_states
from wenti_webhooks.signing import sign_headers

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

# How long the set of disabled endpoints read from the database is reused. An
# endpoint this process disables is dropped at once; one enabled from another
# process is picked up within this time.
DISABLED_CACHE_SECONDS = 5.0

# Attempts kept in memory before they are written to the delivery log; the
# dispatcher also writes them at the end of every round.
LOG_BUFFER = 50

# Longest `Retry-After` we honour; a larger value is clamped so a typo on the
# receiver cannot park deliveries for days.
MAX_RETRY_AFTER_SECONDS = 3600


class DeliveryError(Exception):
    """A failed webhook request; the notify dispatcher reads `permanent` and `retry_after`."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@attrs.frozen
class AttemptResult:
    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def payload_bytes(message: dict[str, Any]) -> bytes:
    """Build the webhook body of a queued notification: the same bytes for every attempt."""
    payload = {
        "type": message["event_type"],
        "timestamp": message["event"]["at"],
        "data": {"event": message["event"], "issue": message["issue"]},
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def config_of(app: Any) -> WebhooksConfig:
    return app.plugin_config("webhooks")


class WebhookChannel:
    """The `send` callable registered as the `webhook` notifier."""

    digest = False
    personal = False
    retry_schedule = RETRY_SCHEDULE

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._disabled: dict[tuple[int, str], tuple[float, set[str]]] = {}
        self._log: list[tuple[Any, dict[str, Any]]] = []

    def client(self) -> httpx.Client:
        # httpx is imported on first use: it takes most of a second to import, and
        # commands that send nothing should not pay for it.
        import httpx

        with self._lock:
            if self._client is None:
                # trust_env=False: proxy variables of the host must not reroute deliveries.
                self._client = httpx.Client(follow_redirects=False, trust_env=False)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def is_enabled(self, app: Any) -> bool:
        config = config_of(app)
        return config.enabled and bool(config.endpoints)

    def targets(self, kind: str, event: Any, app: Any) -> list[str]:
        """Names of the enabled endpoints of the event's tenant that subscribe to `kind`."""
        config = config_of(app)
        wanted = [e for e in config.endpoints if e.tenant == event.tenant_id and e.wants(kind)]
        if not wanted:
            return []
        disabled = self.disabled(app, event.tenant_id)
        return [endpoint.name for endpoint in wanted if endpoint.name not in disabled]

    def disabled(self, app: Any, tenant_id: str) -> set[str]:
        """Disabled endpoint names, read from the database at most every few seconds."""
        key = (id(app), tenant_id)
        cached = self._disabled.get(key)
        if cached is not None and time.monotonic() - cached[0] < DISABLED_CACHE_SECONDS:
            return cached[1]
        names = disabled_endpoints(app, tenant_id)
        self._disabled[key] = (time.monotonic(), names)
        return names

    def forget_disabled(self) -> None:
        self._disabled.clear()

    def flush(self, app: Any) -> None:
        """Write the buffered attempts of `app` to the delivery log."""
        with self._lock:
            mine = [values for owner, values in self._log if owner is app]
            self._log = [(owner, values) for owner, values in self._log if owner is not app]
        if not mine:
            return
        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for values in mine:
            by_tenant.setdefault(values["tenant_id"], []).append(values)
        for tenant_id, rows in by_tenant.items():
            with app.uow(tenant_id) as uow:
                uow.sql_connection().execute(attempts.insert(), rows)
                uow.commit()

    def __call__(self, message: dict[str, Any], app: Any) -> None:
        config = config_of(app)
        tenant_id = message["tenant_id"]
        endpoint = config.endpoint(message["recipient"])
        if endpoint is None or endpoint.tenant != tenant_id:
            raise DeliveryError(
                f"webhook endpoint {message['recipient']!r} is no longer configured for tenant {tenant_id}",
                permanent=True,
            )
        if endpoint.name in self.disabled(app, tenant_id):
            raise DeliveryError(
                f"webhook endpoint {endpoint.name!r} is disabled; enable it with `wenti webhooks enable {endpoint.name}`",
                permanent=True,
            )

        body = payload_bytes(message)
        result = self.post(endpoint, message["id"], body, config.timeout_seconds, app.clock.now())
        values = attempt_values(app, tenant_id, endpoint.name, message["id"], message["event_type"], body, result, manual=False)
        with self._lock:
            self._log.append((app, values))
            full = len(self._log) >= LOG_BUFFER
        if full or not result.succeeded:
            self.flush(app)
        raise_for_result(app, tenant_id, endpoint, result)

    def post(self, endpoint: Endpoint, message_id: str, body: bytes, timeout: float, now: datetime) -> AttemptResult:
        """Send one signed request and describe what happened.

        HTTP statuses, timeouts and transport errors are returned in the result,
        not raised; an invalid secret raises `InvalidSecret`.
        """
        import httpx

        headers = sign_headers(endpoint.secret_values(), message_id, int(now.timestamp()), body)
        headers["content-type"] = "application/json; charset=utf-8"
        headers["user-agent"] = "wenti-webhooks/0.1"
        started = time.monotonic()
        try:
            response = self.client().post(endpoint.url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            return AttemptResult(None, f"timed out after {timeout:g} s", _elapsed_ms(started))
        except httpx.TransportError as error:
            return AttemptResult(None, f"connection failed: {type(error).__name__}: {error}", _elapsed_ms(started))
        duration = _elapsed_ms(started)

        status = response.status_code
        if 200 <= status < 300:
            return AttemptResult(status, None, duration)
        if 300 <= status < 400:
            location = response.headers.get("location", "")
            return AttemptResult(status, f"HTTP {status} redirect to {location!r} is not followed", duration)
        retry_after = _retry_after(response) if status in (429, 503) else None
        return AttemptResult(status, f"HTTP {status}: {response.text[:200]}", duration, retry_after)


def raise_for_result(app: Any, tenant_id: str, endpoint: Endpoint, result: AttemptResult) -> None:
    """Turn an unsuccessful attempt into the `DeliveryError` the dispatcher expects."""
    if result.succeeded:
        return
    if result.status_code == 410:
        set_disabled(app, tenant_id, endpoint.name, "HTTP 410 Gone from the receiver")
        log.warning("webhook endpoint disabled after HTTP 410 tenant=%s endpoint=%s", tenant_id, endpoint.name)
        raise DeliveryError(f"endpoint {endpoint.name!r} responded with 410 Gone and is now disabled", permanent=True)
    raise DeliveryError(str(result.error), retry_after=result.retry_after)


def attempt_values(
    app: Any,
    tenant_id: str,
    endpoint: str,
    message_id: str,
    event_type: str,
    body: bytes,
    result: AttemptResult,
    manual: bool,
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "endpoint": endpoint,
        "message_id": message_id,
        "event_type": event_type,
        "attempted_at": app.clock.now(),
        "status_code": result.status_code,
        "error": result.error,
        "duration_ms": result.duration_ms,
        "succeeded": result.succeeded,
        "manual": manual,
        "body": body.decode("utf-8"),
    }


def record_attempt(
    app: Any,
    tenant_id: str,
    endpoint: str,
    message_id: str,
    event_type: str,
    body: bytes,
    result: AttemptResult,
    manual: bool,
) -> None:
    """Write one attempt to the delivery log now (manual redeliveries)."""
    with app.uow(tenant_id) as uow:
        uow.sql_connection().execute(
            attempts.insert().values(**attempt_values(app, tenant_id, endpoint, message_id, event_type, body, result, manual))
        )
        uow.commit()


def disabled_endpoints(app: Any, tenant_id: str) -> set[str]:
    with app.uow(tenant_id) as uow:
        rows = uow.sql_connection().execute(
            select(endpoint_states.c.endpoint).where(
                endpoint_states.c.tenant_id == tenant_id, endpoint_states.c.disabled_at.is_not(None)
            )
        )
        return set(rows.scalars())


def set_disabled(app: Any, tenant_id: str, endpoint: str, reason: str | None) -> None:
    """Disable an endpoint with `reason`, or enable it again with `reason=None`."""
    channel.forget_disabled()
    with app.uow(tenant_id) as uow:
        conn = uow.sql_connection()
        key = (endpoint_states.c.tenant_id == tenant_id, endpoint_states.c.endpoint == endpoint)
        values = {"disabled_at": app.clock.now() if reason else None, "reason": reason}
        if conn.execute(select(endpoint_states.c.endpoint).where(*key)).first() is None:
            conn.execute(endpoint_states.insert().values(tenant_id=tenant_id, endpoint=endpoint, **values))
        else:
            conn.execute(endpoint_states.update().where(*key).values(**values))
        uow.commit()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value.isdigit():
        return None
    return float(min(int(value), MAX_RETRY_AFTER_SECONDS))


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


channel = WebhookChannel()
