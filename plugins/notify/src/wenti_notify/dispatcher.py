"""The delivery dispatcher: sends due rows of the delivery queue through their channels.

One dispatcher round claims due rows with a lease and sends each through its
channel outside any transaction. Successes are recorded in batches of `ack_batch`
and failures at once. A crash therefore loses at most the acknowledgements not yet
written: those rows' leases expire and they are sent again with the same message id.

What a channel's exception means is read from two optional attributes, so channel
plugins need not import this module:

* `retry_after` (seconds, a number): the provider throttled us. The row goes back
  to the queue for that long and the attempt is not counted, so throttling never
  turns a message into a dead letter.
* `permanent` (true): retrying cannot help (a wrong secret, a disabled endpoint).
  The row becomes a dead letter at once.

Any other exception is a failed attempt, retried on the channel's schedule.

Channels whose `send` callable has `digest = True` get bursts folded: when several
rows for the same channel and recipient are due in one round, they are sent as one
digest message listing them all.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import attrs
from sqlalchemy.engine import Connection

from wenti_notify import queue
from wenti_notify.templates import render_digest

log = logging.getLogger(__name__)

# Standard schedule for channels that do not declare their own: 7 attempts after the
# first one, spread over about a day (10 s, 1 min, 5 min, 30 min, 2 h, 6 h, 14 h).
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (10, 60, 300, 1800, 7200, 21600, 50400)


@attrs.define
class DispatchSettings:
    """Settings of a dispatcher.

    `ack_batch` is how many delivered messages are marked in one transaction. A
    crash before the mark resends them, with the same message ids, so a larger
    batch trades more repeats after a crash for fewer commits.
    """

    batch_size: int = 200
    ack_batch: int = 20
    lease_seconds: float = 120.0
    jitter: float = 0.1
    digest_max_items: int = 30
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE


@attrs.define
class DispatchResult:
    """Counts of one round's outcomes, for logs, tests and benchmarks."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    postponed: int = 0
    digests: int = 0
    skipped: int = 0

    @property
    def sent(self) -> int:
        return self.delivered + self.failed + self.dead + self.postponed


Transaction = Callable[[str], AbstractContextManager[Connection]]


class Dispatcher:
    """Sends due deliveries. Thread-safe for one caller at a time per instance.

    :param transaction: `transaction(tenant_id)` returns a context manager yielding a
        SQLAlchemy connection in a transaction that commits when the block ends
        without an exception.
    :param channels: channel name -> `send(message, app)` callable.
    :param clock: an object with `now()` returning an aware UTC datetime.
    :param app: passed through to `send`.
    """

    def __init__(
        self,
        *,
        transaction: Transaction,
        channels: Mapping[str, Callable[..., Any]],
        clock: Any,
        app: Any = None,
        settings: DispatchSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.transaction = transaction
        self.channels = dict(channels)
        self.clock = clock
        self.app = app
        self.settings = settings or DispatchSettings()
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._acks: list[int] = []

    # -- one round ---------------------------------------------------------------

    def run_once(self, tenant_ids: Sequence[str] | None = None) -> DispatchResult:
        """Send every due delivery once (up to `batch_size` per tenant); return the tally."""
        result = DispatchResult()
        with self._lock:
            tenants = list(tenant_ids) if tenant_ids is not None else self._due_tenants()
            for tenant_id in tenants:
                claimed = self._claim(tenant_id)
                try:
                    for group in self._groups(claimed):
                        self._send_group(group, result)
                finally:
                    self._flush_acks(tenant_id)
                    self._flush_channels()
        return result

    def _flush_acks(self, tenant_id: str) -> None:
        if not self._acks:
            return
        with self.transaction(tenant_id) as conn:
            queue.mark_delivered(conn, self._acks, self.clock.now())
        self._acks = []

    def _flush_channels(self) -> None:
        """Let channels that buffer work (the webhook attempt log) write it now."""
        for send in self.channels.values():
            flush = getattr(send, "flush", None)
            if flush is not None:
                try:
                    flush(self.app)
                except Exception:
                    log.exception("channel flush failed")

    def run_until_idle(self, max_rounds: int = 1000) -> DispatchResult:
        """Repeat rounds until one sends nothing; bounded by `max_rounds`."""
        total = DispatchResult()
        for _ in range(max_rounds):
            step = self.run_once()
            for field in attrs.fields(DispatchResult):
                setattr(total, field.name, getattr(total, field.name) + getattr(step, field.name))
            if step.sent == 0:
                break
        return total

    def _due_tenants(self) -> list[str]:
        # The delivery table is read across tenants here, and only here: the
        # dispatcher is a system process that serves every tenant.
        with self.transaction("") as conn:
            return queue.due_tenants(conn, self.clock.now())

    def _claim(self, tenant_id: str) -> list[queue.Delivery]:
        now = self.clock.now()
        # The random microseconds make the lease time this claim's own token.
        lease_until = now + timedelta(seconds=self.settings.lease_seconds, microseconds=self.rng.randrange(1, 999_999))
        with self.transaction(tenant_id) as conn:
            candidates = queue.due(conn, tenant_id, now, self.settings.batch_size)
            taken = set(queue.claim_many(conn, [row.id for row in candidates], now, lease_until))
        return [row for row in candidates if row.id in taken]

    def _groups(self, rows: Sequence[queue.Delivery]) -> list[list[queue.Delivery]]:
        """Single rows, except that rows for the same digest channel and recipient share a group."""
        size = max(1, self.settings.digest_max_items)
        groups: list[list[queue.Delivery]] = []
        open_groups: dict[tuple[str, str], list[queue.Delivery]] = {}
        for row in rows:
            send = self.channels.get(row.channel)
            if send is None or not getattr(send, "digest", False):
                groups.append([row])
                continue
            key = (row.channel, row.recipient)
            group = open_groups.get(key)
            if group is None or len(group) >= size:
                group = []
                open_groups[key] = group
                groups.append(group)
            group.append(row)
        return groups

    # -- sending ------------------------------------------------------------------

    def _send_group(self, group: list[queue.Delivery], result: DispatchResult) -> None:
        first = group[0]
        send = self.channels.get(first.channel)
        if send is None:
            error = f"no notification channel named {first.channel!r} is installed or enabled"
            self._record_failure(group, RuntimeError(error), None, result)
            return

        if len(group) == 1:
            message = first.message
        else:
            message = render_digest([row.message for row in group])
            result.digests += 1

        try:
            send(message, self.app)
        except Exception as exc:  # noqa: BLE001 - every channel error is recorded on the row
            self._record_failure(group, exc, send, result)
            return

        self._acks.extend(row.id for row in group)
        if len(self._acks) >= self.settings.ack_batch:
            self._flush_acks(first.tenant_id)
        result.delivered += len(group)
        log.debug("delivered tenant=%s channel=%s recipient=%s messages=%d", first.tenant_id, first.channel, first.recipient, len(group))

    def _record_failure(
        self, group: list[queue.Delivery], exc: Exception, send: Callable[..., Any] | None, result: DispatchResult
    ) -> None:
        now = self.clock.now()
        error = f"{type(exc).__name__}: {exc}"
        retry_after = getattr(exc, "retry_after", None)
        permanent = bool(getattr(exc, "permanent", False))
        schedule = tuple(getattr(send, "retry_schedule", None) or self.settings.retry_schedule)
        first = group[0]

        with self.transaction(first.tenant_id) as conn:
            for row in group:
                if retry_after is not None and not permanent:
                    queue.postpone(conn, row.id, now + timedelta(seconds=float(retry_after)), error)
                    result.postponed += 1
                    continue
                attempt = row.attempts + 1
                dead = permanent or attempt > len(schedule)
                next_at = None if dead else now + self._delay(schedule[attempt - 1])
                queue.mark_failed(conn, row.id, error, next_at, dead)
                if dead:
                    result.dead += 1
                else:
                    result.failed += 1

        if retry_after is not None and not permanent:
            log.info(
                "channel throttled tenant=%s channel=%s recipient=%s messages=%d retry_after=%.0fs",
                first.tenant_id, first.channel, first.recipient, len(group), float(retry_after),
            )
        else:
            log.warning(
                "delivery failed tenant=%s channel=%s recipient=%s messages=%d attempt=%d permanent=%s error=%s",
                first.tenant_id, first.channel, first.recipient, len(group), first.attempts + 1, permanent, error,
            )

    def _delay(self, seconds: float) -> timedelta:
        spread = seconds * self.settings.jitter
        return timedelta(seconds=max(0.0, seconds + self.rng.uniform(-spread, spread)))


class DispatcherThread:
    """Runs a dispatcher in a background thread until `stop()`; used by `wenti serve`."""

    def __init__(self, dispatcher: Dispatcher, interval_seconds: float = 1.0) -> None:
        self.dispatcher = dispatcher
        self.interval_seconds = interval_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="wenti-notify", daemon=True)
        self._thread.start()
        log.info("notification dispatcher started interval=%.1fs", self.interval_seconds)

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout=10)
        self._thread = None
        log.info("notification dispatcher stopped")

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.dispatcher.run_once()
            except Exception:
                log.exception("notification dispatch round failed; retrying in %.1fs", self.interval_seconds)
            self._stopping.wait(self.interval_seconds)
