"""The in-process job runner: a `Scheduler` on the app's database, driven by one thread."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from wenti.clock import utc
from wenti_jobs.config import JobsConfig
from wenti_jobs.scheduler import JobSpec, RunResult, Scheduler

log = logging.getLogger(__name__)

# The unit of work that carries scheduler transactions. The schedule is shared by all
# tenants; the tenant id only labels the unit of work.
SYSTEM_TENANT = "_system"


class InProcessRunner:
    """Runs the jobs that plugins register through `register_jobs`, inside this process."""

    name = "inprocess"

    def __init__(self, app: Any, config: JobsConfig | None = None) -> None:
        self.app = app
        self.config = config or JobsConfig()
        specs = [JobSpec(job.name, job.run, job.cron) for job in app.hooks.jobs()]
        self.scheduler = Scheduler(
            self._transaction,
            specs,
            lambda: app.clock.now().timestamp(),
            app,
            lease_seconds=self.config.lease_seconds,
            max_attempts=self.config.max_attempts,
            retry_seconds=self.config.retry_seconds,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._synced = False

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self.app.uow(SYSTEM_TENANT) as uow:
            yield uow.sql_connection()
            uow.commit()

    def sync(self) -> None:
        if not self._synced:
            self.scheduler.sync_periodic()
            self._synced = True

    def run_pending(self) -> list[RunResult]:
        """Run every due job once in this thread (what the background thread does each poll)."""
        self.sync()
        return self.scheduler.run_pending()

    def enqueue(self, job: str, run_at: datetime, payload: dict[str, Any] | None = None, key: str | None = None) -> str:
        """Schedule a delayed run of `job` at the aware datetime `run_at`."""
        return self.scheduler.enqueue(job, utc(run_at).timestamp(), payload, key)

    def start(self, delay: float | None = None) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        wait = self.config.start_delay_seconds if delay is None else delay
        self._thread = threading.Thread(target=self._loop, args=(wait,), name="wenti-jobs", daemon=True)
        self._thread.start()
        log.info("job runner started owner=%s poll=%ss", self.scheduler.owner, self.config.poll_seconds)

    def stop(self, timeout: float = 30.0) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        self._thread = None
        log.info("job runner stopped owner=%s", self.scheduler.owner)

    def _loop(self, delay: float) -> None:
        if self._stop.wait(delay):
            return
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("job runner poll failed owner=%s; trying again in %ss", self.scheduler.owner, self.config.poll_seconds)
            self._stop.wait(self.config.poll_seconds)
