"""The in-process outbox dispatcher.

Every committed change writes one outbox message per event and per plugin that
implements the `issue_event` hook (see `wenti.services.writes`). The dispatcher reads
due messages and calls each plugin's implementation on its own, in a worker thread
with a timeout, so one raising or slow plugin neither blocks the write nor stops the
others. A failure is retried with exponential backoff and jitter; after
`[outbox] max_attempts` the message becomes a dead letter that `wenti outbox` lists
and an admin can retry.

Guarantees: a message is marked delivered only after its implementation returned,
so delivery is at least once. A claimed lease keeps two dispatchers from delivering
the same message at the same time, and a delivered message is never delivered again.
A crash after the implementation returned but before the mark is written delivers it
once more; implementations with side effects deduplicate on `event.id`.
"""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import TYPE_CHECKING

from wenti.converter import from_dict
from wenti.domain import DeliveryStatus, Event, OutboxMessage, Role
from wenti.errors import NotFound, ValidationFailed
from wenti.i18n import N_
from wenti.services.permissions import require_role

if TYPE_CHECKING:
    from wenti.app import App, Context

log = logging.getLogger(__name__)

# Extra time a lease outlives the call's timeout, so a slow commit of the result does
# not let a second dispatcher take the message while the first is still marking it.
LEASE_MARGIN = timedelta(seconds=30)


class OutboxDispatcher:
    def __init__(self, app: App) -> None:
        self.app = app
        self._executor: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._random = random.Random()

    # -- running ---------------------------------------------------------------

    def start(self, interval_seconds: float = 1.0) -> None:
        """Deliver in a background thread until `stop()`; `wake()` shortens the wait."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, args=(interval_seconds,), name="wenti-outbox", daemon=True)
        self._thread.start()
        log.info("outbox dispatcher started interval=%.1fs", interval_seconds)

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout=10)
            self._thread = None
            log.info("outbox dispatcher stopped")
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def wake(self) -> None:
        """Tell a running dispatcher that new messages are waiting; no-op when not running."""
        if self._thread is not None:
            self._wake.set()

    def _run(self, interval_seconds: float) -> None:
        while not self._stopping.is_set():
            try:
                self.dispatch_pending()
            except Exception:
                log.exception("outbox dispatch round failed; retrying in %.1fs", interval_seconds)
            self._wake.wait(interval_seconds)
            self._wake.clear()

    # -- delivery --------------------------------------------------------------

    def dispatch_pending(self, limit: int | None = None) -> int:
        """Deliver every due message of every tenant once; return how many were delivered."""
        delivered = 0
        for tenant_id in self._tenant_ids():
            now = self.app.clock.now()
            with self.app.uow(tenant_id) as uow:
                due = uow.outbox.due(now, limit or 500)
            for message in due:
                if self._stopping.is_set():
                    return delivered
                if self._deliver(message):
                    delivered += 1
        return delivered

    def has_due(self) -> bool:
        """Return True when some tenant has a message whose delivery time has come."""
        now = self.app.clock.now()
        for tenant_id in self._tenant_ids():
            with self.app.uow(tenant_id, readonly=True) as uow:
                if uow.outbox.due(now, 1):
                    return True
        return False

    def _tenant_ids(self) -> list[str]:
        with self.app.uow("default") as uow:
            return [tenant.id for tenant in uow.tenants.list()]

    def _deliver(self, message: OutboxMessage) -> bool:
        config = self.app.config.outbox
        timeout = float(config.timeout_seconds)
        now = self.app.clock.now()
        with self.app.uow(message.tenant_id) as uow:
            if not uow.outbox.claim(message.id, now, now + timedelta(seconds=timeout) + LEASE_MARGIN):
                return False
            uow.commit()

        error = self._call(message, timeout)

        now = self.app.clock.now()
        with self.app.uow(message.tenant_id) as uow:
            if error is None:
                uow.outbox.mark_delivered(message.id, now)
            else:
                attempts = message.attempts + 1
                dead = attempts >= int(config.max_attempts)
                next_at = None if dead else now + self._backoff(attempts)
                uow.outbox.mark_failed(message.id, error, next_at, dead)
            uow.commit()

        if error is None:
            return True
        level = logging.ERROR if message.attempts + 1 >= int(config.max_attempts) else logging.WARNING
        log.log(
            level,
            "outbox delivery failed tenant=%s message=%s event=%s plugin=%s attempt=%d error=%s",
            message.tenant_id, message.id, message.event_id, message.plugin, message.attempts + 1, error,
        )
        return False

    def _call(self, message: OutboxMessage, timeout: float) -> str | None:
        """Run one implementation with a timeout; return None on success or the error text."""
        try:
            event = from_dict(Event, message.payload)
        except Exception as exc:  # a payload that cannot be read will never succeed
            return f"unreadable payload: {exc!r}"
        future = self._pool().submit(
            self.app.hooks.call_event_impl, message.hook, message.plugin, event=event, app=self.app
        )
        try:
            future.result(timeout=timeout)
        except FutureTimeout:
            # NOTE: Python cannot stop the worker thread; a hung implementation keeps one
            # pool thread busy until it returns, and its message is retried meanwhile.
            return f"timed out after {timeout:.1f}s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="wenti-hook")
        return self._executor

    def _backoff(self, attempts: int) -> timedelta:
        config = self.app.config.outbox
        ceiling = min(float(config.max_delay_seconds), float(config.base_delay_seconds) * 2 ** (attempts - 1))
        # Jitter between half and all of the ceiling spreads retries of a burst.
        return timedelta(seconds=ceiling * (0.5 + self._random.random() / 2))

    # -- administration --------------------------------------------------------

    def list(self, ctx: Context, status: str | None = None, limit: int = 100) -> list[OutboxMessage]:
        require_role(ctx, Role.ADMIN, N_("view the outbox"))
        if status is not None:
            DeliveryStatus(status)
        with self.app.uow(ctx.tenant_id) as uow:
            return uow.outbox.list(status, limit)

    def retry(self, ctx: Context, message_id: int) -> OutboxMessage:
        """Put a dead letter back in the queue for delivery now.

        Raises `NotFound` for an unknown id and `ValidationFailed` for a message
        that is pending (the dispatcher retries it on its own) or delivered.
        """
        require_role(ctx, Role.ADMIN, N_("retry outbox messages"))
        now = self.app.clock.now()
        with self.app.uow(ctx.tenant_id) as uow:
            message = uow.outbox.get(message_id)
            if message is None:
                raise NotFound(N_("Outbox message {message_id} does not exist."), message_id=message_id)
            if message.status is DeliveryStatus.PENDING:
                raise ValidationFailed(
                    N_(
                        "Outbox message {message_id} is still pending, not a dead letter; it is retried on its own "
                        "at its next attempt. Only dead letters can be retried."
                    ),
                    message_id=message_id,
                )
            if message.status is not DeliveryStatus.DEAD:
                raise ValidationFailed(
                    N_("Outbox message {message_id} was already delivered; only dead letters can be retried."),
                    message_id=message_id,
                )
            uow.outbox.retry(message_id, now)
            uow.commit()
        with self.app.uow(ctx.tenant_id) as uow:
            message = uow.outbox.get(message_id)
        log.info("outbox message requeued tenant=%s message=%s actor=%s", ctx.tenant_id, message_id, ctx.username)
        self.wake()
        return message
