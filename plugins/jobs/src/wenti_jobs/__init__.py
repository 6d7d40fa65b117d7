"""wenti-jobs: the scheduler for periodic and delayed work, persisted in the database.

Plugins hand work to it through the `register_jobs` hook. The scheduler keeps one row
per periodic job and per delayed run in the `jobs_schedule` table and claims each run
with a lease, so a restart loses nothing and two processes never run the same run.
`runner_for(app)` returns the runner of a running app (for the command line and tests).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from wenti import hookimpl
from wenti.errors import ConfigError
from wenti.records import CliCommand, JobRunner, PluginConfig, SqlSchema

from wenti_jobs.config import JobsConfig
from wenti_jobs.runner import InProcessRunner

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"

_RUNNERS: dict[int, Any] = {}


def runner_for(app: Any) -> Any:
    """Return the job runner started for `app`; raise `LookupError` before `startup` ran."""
    try:
        return _RUNNERS[id(app)]
    except KeyError:
        raise LookupError("the jobs plugin has not started for this app; build it with App.create") from None


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    return [PluginConfig(name="jobs", config_class=JobsConfig)]


@hookimpl
def register_sql_schemas() -> list[SqlSchema]:
    from wenti_jobs.tables import metadata

    return [SqlSchema(name="jobs", metadata=metadata, migrations=str(MIGRATIONS), branch="jobs")]


@hookimpl
def register_job_runners() -> list[JobRunner]:
    return [JobRunner(name="inprocess", factory=InProcessRunner)]


@hookimpl
def register_commands() -> list[CliCommand]:
    from wenti_jobs.cli import jobs_group

    return [CliCommand(name="jobs", command=jobs_group)]


@hookimpl
def startup(app: Any) -> None:
    config: JobsConfig = app.plugin_config("jobs")
    runners = {record.name: record for record in app.hooks.job_runners()}
    record = runners.get(config.runner)
    if record is None:
        raise ConfigError(
            file=app.config.file_label,
            table="plugins.jobs",
            key="runner",
            value=config.runner,
            expected=f"one of the installed job runners: {', '.join(sorted(runners))}",
        )
    runner = record.factory(app, config)
    _RUNNERS[id(app)] = runner
    if config.autostart:
        runner.start()


@hookimpl
def shutdown(app: Any) -> None:
    runner = _RUNNERS.pop(id(app), None)
    if runner is not None:
        runner.stop()


@hookimpl
def schedule_job(app: Any, job: str, run_at: Any, payload: dict[str, Any], key: str | None) -> str | None:
    runner = _RUNNERS.get(id(app))
    if runner is None:
        return None
    return runner.enqueue(job, run_at, payload, key)
