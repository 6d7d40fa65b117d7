"""`wenti jobs list|run|worker|retry`: inspect and drive the scheduler."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import click

from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.state import CliState, pass_state
from wenti.i18n import N_

from wenti_jobs.translation import _


def _runner(state: CliState):
    from wenti_jobs import runner_for

    return runner_for(state.app())


STATUS_LABELS = {"scheduled": N_("scheduled"), "done": N_("done"), "dead": N_("dead")}


def _time(value: float | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@click.group("jobs", cls=Group, invoke_without_command=True, help=N_("Show and run scheduled jobs (default: list)."))
@click.pass_context
def jobs_group(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(jobs_list)


@jobs_group.command("list", cls=Command, help=N_("List periodic jobs and delayed runs with their next run time."))
@option("--status", type=click.Choice(["scheduled", "done", "dead"]), help=N_("Only runs with this status."))
@pass_state
def jobs_list(state: CliState, status: str | None = None) -> None:
    runner = _runner(state)
    runner.sync()
    rows = runner.scheduler.rows(status)
    if not rows:
        click.echo(_("No jobs are scheduled."))
        return
    for row in rows:
        click.echo(
            _("{id}  {status}  next run {run_at}  last run {last_run}  attempts {attempts}  {error}").format(
                id=row["id"],
                status=_(STATUS_LABELS.get(row["status"], row["status"])),
                run_at=_time(row["run_at"]),
                last_run=_time(row["last_run_at"]),
                attempts=row["attempts"],
                error=(row["last_error"] or "").splitlines()[0] if row["last_error"] else "",
            ).rstrip()
        )


@jobs_group.command("run", cls=Command, help=N_("Run every due job once in this process, then exit."))
@pass_state
def jobs_run(state: CliState) -> None:
    results = _runner(state).run_pending()
    for result in results:
        if result.ok:
            click.echo(_("Ran {job} ({id}).").format(job=result.job, id=result.id))
        else:
            click.echo(_("Job {job} ({id}) failed: {error}").format(job=result.job, id=result.id, error=result.error))
    if not results:
        click.echo(_("No job is due."))


@jobs_group.command("worker", cls=Command, help=N_("Run due jobs in the foreground until interrupted (Ctrl+C)."))
@option("--poll", default=5.0, type=click.FloatRange(0.1, 3600), help=N_("Seconds between checks for due jobs (default: 5)."))
@pass_state
def jobs_worker(state: CliState, poll: float = 5.0) -> None:
    runner = _runner(state)
    runner.stop()
    click.echo(_("Job worker {owner} running; press Ctrl+C to stop.").format(owner=runner.scheduler.owner))
    try:
        while True:
            runner.run_pending()
            time.sleep(poll)
    except KeyboardInterrupt:
        click.echo(_("Job worker stopped."))


@jobs_group.command("retry", cls=Command, help=N_("Schedule a dead delayed run again, due now."))
@click.argument("row_id", metavar="ID")
@pass_state
def jobs_retry(state: CliState, row_id: str) -> None:
    if not _runner(state).scheduler.retry(row_id):
        raise CliError(_("No dead job run has the id {id}; see `wenti jobs list --status dead`.").format(id=row_id))
    click.echo(_("Job run {id} is scheduled again.").format(id=row_id))
