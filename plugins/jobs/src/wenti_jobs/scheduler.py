"""A job scheduler persisted in the database, safe to run in several processes.

APScheduler's own scheduler is not used. APScheduler 3.x keeps due times in its job
store, but its user guide says a job store must never be shared between schedulers,
and 4.x, which supports sharing, is a pre-release. So the schedule lives in the `jobs_schedule` table, and
APScheduler 3.x only computes cron fire times (`CronTrigger`).

How a run is claimed: a process takes a due row with a conditional UPDATE (`status =
'scheduled'`, `run_at <= now`, no live lease) and owns it only when exactly one row
changed. The lease lasts `lease_seconds`; a process that dies mid-run loses it after
that time and the job runs again (at-least-once), so jobs must tolerate a repeat.

Missed runs: a periodic job whose `run_at` passed while no process was up is due, runs
once, and is then scheduled for the next fire time after that run (missed occurrences
are coalesced into one).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, ContextManager

import attrs
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Connection, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from wenti_jobs.tables import jobs as jobs_table

log = logging.getLogger(__name__)

SCHEDULED = "scheduled"
DONE = "done"
DEAD = "dead"

Transaction = Callable[[], ContextManager[Connection]]


class JobError(ValueError):
    """Raised for an invalid job definition or request; the message names the value and the fix."""


@attrs.frozen
class JobSpec:
    """A job as the scheduler sees it: the callable and the optional cron expression."""

    name: str
    run: Callable[[Any, Any], Any]
    cron: str | None = None


@attrs.frozen
class RunResult:
    id: str
    job: str
    ok: bool
    error: str | None = None


def parse_cron(expression: str, where: str = "cron") -> CronTrigger:
    """Parse a five-field crontab expression, read in UTC."""
    try:
        return CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as error:
        raise JobError(f"{where} = {expression!r} is not a valid crontab expression ({error}); write five fields, like */5 * * * *") from None


def next_fire_time(trigger: CronTrigger, after: float) -> float:
    """Return the first fire time strictly after the timestamp `after`."""
    moment = datetime.fromtimestamp(after, timezone.utc)
    fire = trigger.get_next_fire_time(None, moment)
    if fire is not None and fire.timestamp() <= after:
        # CronTrigger may return `moment` itself when it falls on a fire time.
        fire = trigger.get_next_fire_time(fire, datetime.fromtimestamp(after + 1, timezone.utc))
    if fire is None:
        raise JobError(f"cron trigger {trigger} never fires again after {moment.isoformat()}")
    return fire.timestamp()


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Scheduler:
    """Runs due jobs from the `jobs_schedule` table.

    `transaction()` returns a context manager yielding a SQLAlchemy connection inside a
    transaction that commits when the block ends without an error. `context` is handed
    to each job's `run(context, payload)` (the wenti `App` in a running instance).
    `clock()` returns the current POSIX time.
    """

    def __init__(
        self,
        transaction: Transaction,
        specs: Sequence[JobSpec],
        clock: Callable[[], float],
        context: Any = None,
        *,
        owner: str | None = None,
        lease_seconds: float = 300.0,
        max_attempts: int = 5,
        retry_seconds: float = 60.0,
    ) -> None:
        self.transaction = transaction
        self.clock = clock
        self.context = context
        self.owner = owner or default_owner()
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
        self.specs: dict[str, JobSpec] = {}
        self.triggers: dict[str, CronTrigger] = {}
        for spec in specs:
            if spec.name in self.specs:
                raise JobError(f"job {spec.name!r} is defined twice; give each job its own name")
            self.specs[spec.name] = spec
            if spec.cron is not None:
                self.triggers[spec.name] = parse_cron(spec.cron, f"cron of job {spec.name!r}")

    # -- schedule ---------------------------------------------------------------------

    def sync_periodic(self) -> int:
        """Insert a row for each periodic job that has none and follow changed cron expressions.

        Existing rows keep their `run_at`, so a run missed while no process was up
        stays due. Returns the number of rows inserted or changed.
        """
        now = self.clock()
        with self.transaction() as connection:
            stored = {
                row.id: row.cron
                for row in connection.execute(
                    select(jobs_table.c.id, jobs_table.c.cron).where(jobs_table.c.id.in_(list(self.triggers)))
                )
            }
        changed = 0
        for name, trigger in self.triggers.items():
            cron = self.specs[name].cron
            if name not in stored:
                changed += self._insert_periodic(name, cron, next_fire_time(trigger, now), now)
            elif stored[name] != cron:
                with self.transaction() as connection:
                    connection.execute(
                        update(jobs_table)
                        .where(jobs_table.c.id == name)
                        .values(cron=cron, run_at=next_fire_time(trigger, now), status=SCHEDULED)
                    )
                changed += 1
        return changed

    def _insert_periodic(self, name: str, cron: str | None, run_at: float, now: float) -> int:
        # Two processes starting together may both insert; the second insert violates
        # the primary key, and that process keeps the row the first one wrote.
        try:
            with self.transaction() as connection:
                connection.execute(insert(jobs_table).values(_new_row(name, name, cron, None, run_at, now)))
        except IntegrityError:
            log.info("job %s was scheduled by another process at the same time", name)
            return 0
        return 1

    def enqueue(self, job: str, run_at: float, payload: Mapping[str, Any] | None = None, key: str | None = None) -> str:
        """Schedule a delayed run of `job` at `run_at` with `payload`; returns the row id.

        `key` makes the request idempotent: enqueuing the same job and key again
        replaces the pending run's time and payload instead of adding a second run.
        """
        if job not in self.specs:
            raise JobError(f"job {job!r} is not registered; known jobs: {', '.join(sorted(self.specs)) or 'none'}")
        row_id = f"{job}:{key or uuid.uuid4().hex}"
        now = self.clock()
        with self.transaction() as connection:
            existing = connection.execute(select(jobs_table.c.status).where(jobs_table.c.id == row_id)).first()
            values = {"run_at": float(run_at), "payload": dict(payload or {}), "status": SCHEDULED, "attempts": 0, "last_error": None}
            if existing is None:
                connection.execute(insert(jobs_table).values(_new_row(row_id, job, None, dict(payload or {}), float(run_at), now)))
            else:
                connection.execute(update(jobs_table).where(jobs_table.c.id == row_id).values(**values))
        log.info("job enqueued id=%s job=%s run_at=%s", row_id, job, run_at)
        return row_id

    def cancel(self, row_id: str) -> bool:
        """Remove a pending delayed run; False when there is none."""
        with self.transaction() as connection:
            result = connection.execute(
                delete(jobs_table).where(and_(jobs_table.c.id == row_id, jobs_table.c.cron.is_(None), jobs_table.c.status == SCHEDULED))
            )
        return result.rowcount == 1

    # -- running ----------------------------------------------------------------------

    def due_ids(self, now: float, limit: int = 100) -> list[str]:
        with self.transaction() as connection:
            rows = connection.execute(
                select(jobs_table.c.id)
                .where(jobs_table.c.status == SCHEDULED, jobs_table.c.run_at <= now)
                .order_by(jobs_table.c.run_at, jobs_table.c.id)
                .limit(limit)
            )
            return [row.id for row in rows]

    def claim(self, row_id: str, now: float) -> bool:
        """Take the lease on a due row; False when another process holds or already ran it."""
        with self.transaction() as connection:
            result = connection.execute(
                update(jobs_table)
                .where(
                    jobs_table.c.id == row_id,
                    jobs_table.c.status == SCHEDULED,
                    jobs_table.c.run_at <= now,
                    or_(jobs_table.c.lease_until.is_(None), jobs_table.c.lease_until < now),
                )
                .values(lease_owner=self.owner, lease_until=now + self.lease_seconds)
            )
        return result.rowcount == 1

    def run_pending(self, limit: int = 100) -> list[RunResult]:
        """Claim and run every due job once; returns what ran."""
        now = self.clock()
        results = []
        for row_id in self.due_ids(now, limit):
            if self.claim(row_id, now):
                results.append(self._run_claimed(row_id))
        return results

    def _run_claimed(self, row_id: str) -> RunResult:
        with self.transaction() as connection:
            row = connection.execute(select(jobs_table).where(jobs_table.c.id == row_id)).one()
        spec = self.specs.get(row.job)
        if spec is None:
            # A job whose plugin is not installed here: leave it for a process that has it.
            self._release(row_id)
            log.warning("job %s (row %s) is due but not registered in this process; left for another", row.job, row_id)
            return RunResult(row_id, row.job, False, "not registered")

        started = self.clock()
        log.info("job start id=%s job=%s owner=%s", row_id, row.job, self.owner)
        try:
            spec.run(self.context, dict(row.payload or {}))
        except Exception as error:  # noqa: BLE001 - a failing job must not stop the scheduler
            log.exception("job failed id=%s job=%s attempt=%s", row_id, row.job, row.attempts + 1)
            self._record_failure(row, f"{type(error).__name__}: {error}")
            return RunResult(row_id, row.job, False, f"{type(error).__name__}: {error}")
        self._record_success(row, started)
        log.info("job done id=%s job=%s seconds=%.3f", row_id, row.job, self.clock() - started)
        return RunResult(row_id, row.job, True)

    def _record_success(self, row: Any, started: float) -> None:
        finished = self.clock()
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "attempts": 0, "last_run_at": started, "last_error": None}
        trigger = self.triggers.get(row.job) if row.cron is not None else None
        if trigger is not None:
            values["run_at"] = next_fire_time(trigger, max(finished, started))
        else:
            values["status"] = DONE
        with self.transaction() as connection:
            connection.execute(update(jobs_table).where(jobs_table.c.id == row.id, jobs_table.c.lease_owner == self.owner).values(**values))

    def _record_failure(self, row: Any, error: str) -> None:
        attempts = row.attempts + 1
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "attempts": attempts, "last_error": error[:2000]}
        trigger = self.triggers.get(row.job) if row.cron is not None else None
        if trigger is not None:
            # A periodic job tries again at its next fire time; its failures never make it dead.
            values["run_at"] = next_fire_time(trigger, self.clock())
        elif attempts >= self.max_attempts:
            values["status"] = DEAD
            log.error("job dead id=%s job=%s attempts=%s error=%s", row.id, row.job, attempts, error)
        else:
            values["run_at"] = self.clock() + self.retry_seconds * (2 ** (attempts - 1))
        with self.transaction() as connection:
            connection.execute(update(jobs_table).where(jobs_table.c.id == row.id, jobs_table.c.lease_owner == self.owner).values(**values))

    def _release(self, row_id: str) -> None:
        with self.transaction() as connection:
            connection.execute(
                update(jobs_table).where(jobs_table.c.id == row_id, jobs_table.c.lease_owner == self.owner).values(lease_owner=None, lease_until=None)
            )

    # -- inspection -------------------------------------------------------------------

    def rows(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        query = select(jobs_table).order_by(jobs_table.c.run_at, jobs_table.c.id).limit(limit)
        if status is not None:
            query = query.where(jobs_table.c.status == status)
        with self.transaction() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def retry(self, row_id: str) -> bool:
        """Put a dead delayed job back in the schedule, due now."""
        with self.transaction() as connection:
            result = connection.execute(
                update(jobs_table)
                .where(jobs_table.c.id == row_id, jobs_table.c.status == DEAD)
                .values(status=SCHEDULED, run_at=self.clock(), attempts=0, lease_owner=None, lease_until=None)
            )
        return result.rowcount == 1


def _new_row(row_id: str, job: str, cron: str | None, payload: Any, run_at: float, now: float) -> dict[str, Any]:
    return {
        "id": row_id,
        "job": job,
        "cron": cron,
        "payload": payload,
        "run_at": run_at,
        "status": SCHEDULED,
        "lease_owner": None,
        "lease_until": None,
        "attempts": 0,
        "last_run_at": None,
        "last_error": None,
        "created_at": now,
    }


@contextlib.contextmanager
def engine_transaction(engine: Any) -> Iterator[Connection]:
    """Open a transaction on a bare SQLAlchemy engine, for tools and tests outside an app."""
    with engine.begin() as connection:
        yield connection
