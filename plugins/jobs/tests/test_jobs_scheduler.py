"""The database-backed scheduler: periodic and delayed runs, restarts, leases, processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from wenti_jobs.scheduler import DEAD, DONE, SCHEDULED, JobError, JobSpec, Scheduler, engine_transaction, parse_cron
from wenti_jobs.tables import metadata

T0 = 1_740_000_000.0  # 2025-02-19 21:20:00 UTC


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'jobs.db'}", connect_args={"timeout": 30})
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def make_scheduler(engine, specs, clock, **options):
    return Scheduler(lambda: engine_transaction(engine), specs, clock, context="ctx", **options)


def test_periodic_job_runs_when_due(engine):
    calls = []
    clock = Clock()
    scheduler = make_scheduler(engine, [JobSpec("tick", lambda ctx, payload: calls.append((ctx, clock.now)), "*/5 * * * *")], clock)

    scheduler.sync_periodic()
    nothing = scheduler.run_pending()
    clock.now = T0 + 300
    ran = scheduler.run_pending()
    again = scheduler.run_pending()

    assert nothing == []
    assert [result.job for result in ran] == ["tick"]
    assert calls == [("ctx", T0 + 300)]
    assert again == []
    row = scheduler.rows()[0]
    assert row["run_at"] == T0 + 600
    assert row["last_run_at"] == T0 + 300


def test_missed_runs_coalesce_after_restart(engine):
    calls = []
    spec = JobSpec("sla.check", lambda ctx, payload: calls.append(1), "* * * * *")
    clock = Clock()
    first = make_scheduler(engine, [spec], clock)
    first.sync_periodic()

    # The process is down for an hour; a new one starts.
    clock.now = T0 + 3600
    second = make_scheduler(engine, [spec], clock)
    second.sync_periodic()
    results = second.run_pending()

    assert len(results) == 1
    assert calls == [1]
    assert second.run_pending() == []
    assert second.rows()[0]["run_at"] == pytest.approx(T0 + 3600 + 60 - (T0 + 3600) % 60)


def test_changed_cron_is_followed(engine):
    clock = Clock()
    make_scheduler(engine, [JobSpec("report", lambda ctx, payload: None, "0 1 * * *")], clock).sync_periodic()

    changed = make_scheduler(engine, [JobSpec("report", lambda ctx, payload: None, "0 2 * * *")], clock)
    count = changed.sync_periodic()

    assert count == 1
    assert changed.rows()[0]["cron"] == "0 2 * * *"


def test_delayed_job_runs_once_at_its_time(engine):
    payloads = []
    clock = Clock()
    scheduler = make_scheduler(engine, [JobSpec("remind", lambda ctx, payload: payloads.append(payload))], clock)

    row_id = scheduler.enqueue("remind", T0 + 60, {"issue": 7}, key="issue-7")
    early = scheduler.run_pending()
    clock.now = T0 + 61
    ran = scheduler.run_pending()

    assert row_id == "remind:issue-7"
    assert early == []
    assert [result.ok for result in ran] == [True]
    assert payloads == [{"issue": 7}]
    assert scheduler.rows()[0]["status"] == DONE
    assert scheduler.run_pending() == []


def test_enqueue_with_same_key_replaces(engine):
    clock = Clock()
    scheduler = make_scheduler(engine, [JobSpec("remind", lambda ctx, payload: None)], clock)

    scheduler.enqueue("remind", T0 + 60, {"n": 1}, key="k")
    scheduler.enqueue("remind", T0 + 120, {"n": 2}, key="k")

    rows = scheduler.rows()
    assert len(rows) == 1
    assert rows[0]["run_at"] == T0 + 120
    assert rows[0]["payload"] == {"n": 2}


def test_failing_delayed_job_backs_off_then_dies(engine):
    clock = Clock()

    def fail(ctx, payload):
        raise RuntimeError("smtp down")

    scheduler = make_scheduler(engine, [JobSpec("send", fail)], clock, max_attempts=3, retry_seconds=10)
    scheduler.enqueue("send", T0, key="a")

    first = scheduler.run_pending()
    after_first = scheduler.rows()[0]
    clock.now = T0 + 10
    scheduler.run_pending()
    clock.now = T0 + 10 + 20
    scheduler.run_pending()
    final = scheduler.rows()[0]

    assert first[0].ok is False
    assert "smtp down" in first[0].error
    assert after_first["run_at"] == T0 + 10
    assert after_first["status"] == SCHEDULED
    assert final["status"] == DEAD
    assert final["attempts"] == 3
    assert scheduler.retry("send:a") is True
    assert scheduler.rows()[0]["status"] == SCHEDULED


def test_held_lease_blocks_second_scheduler(engine):
    calls = []
    clock = Clock()
    spec = JobSpec("remind", lambda ctx, payload: calls.append(1))
    one = make_scheduler(engine, [spec], clock, owner="one")
    two = make_scheduler(engine, [spec], clock, owner="two")
    one.enqueue("remind", T0, key="x")

    assert one.claim("remind:x", T0) is True
    assert two.claim("remind:x", T0) is False
    # After the lease expires (the first process died), the run is taken over.
    assert two.claim("remind:x", T0 + 301) is True


def test_invalid_definitions_are_rejected(engine):
    with pytest.raises(JobError, match="'every minute' is not a valid crontab"):
        parse_cron("every minute")
    with pytest.raises(JobError, match="defined twice"):
        make_scheduler(engine, [JobSpec("a", print), JobSpec("a", print)], Clock())
    with pytest.raises(JobError, match="job 'nope' is not registered"):
        make_scheduler(engine, [JobSpec("a", print)], Clock()).enqueue("nope", T0)


WORKER = textwrap.dedent(
    """
    import sys, time
    from sqlalchemy import create_engine, text
    from wenti_jobs.scheduler import JobSpec, Scheduler, engine_transaction

    url, name = sys.argv[1], sys.argv[2]
    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})

    def record(ctx, payload):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO job_runs (job, worker) VALUES (:job, :worker)"), {"job": payload["n"], "worker": name})

    scheduler = Scheduler(lambda: engine_transaction(engine), [JobSpec("work", record)], time.time, owner=name)
    deadline = time.time() + 20
    while time.time() < deadline:
        if not scheduler.run_pending() and not scheduler.due_ids(time.time()):
            break
    """
)


def run_two_workers(url: str, engine, tmp_path: Path, jobs: int = 150) -> list[tuple[int, str]]:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE job_runs (job INTEGER NOT NULL, worker VARCHAR(20) NOT NULL)"))
    scheduler = Scheduler(lambda: engine_transaction(engine), [JobSpec("work", print)], lambda: 0.0)
    for n in range(jobs):
        scheduler.enqueue("work", 0.0, {"n": n}, key=str(n))

    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    env = dict(os.environ)
    processes = [subprocess.Popen([sys.executable, str(script), url, f"w{index}"], env=env) for index in range(2)]
    for process in processes:
        assert process.wait(timeout=60) == 0

    with engine.begin() as connection:
        return [(row.job, row.worker) for row in connection.execute(text("SELECT job, worker FROM job_runs"))]


def test_two_processes_never_run_same_job_sqlite(engine, tmp_path):
    runs = run_two_workers(str(engine.url), engine, tmp_path)

    jobs = [job for job, _worker in runs]
    assert sorted(jobs) == list(range(150))
    assert len(set(jobs)) == len(jobs)


@pytest.mark.postgres
def test_two_processes_never_run_same_job_postgres(tmp_path):
    # A schema of its own keeps this test away from tables other tests create in `test`.
    schema = f"jobs_test_{os.getpid()}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    metadata.create_all(engine)
    try:
        runs = run_two_workers(url, engine, tmp_path)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

    jobs = [job for job, _worker in runs]
    assert sorted(jobs) == list(range(150))
    assert len(set(jobs)) == len(jobs)
