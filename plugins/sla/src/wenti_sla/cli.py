"""`wenti sla explain|recompute|check|days`: SLA clocks from the command line."""

from __future__ import annotations

import re
from datetime import date, timedelta

import click

from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.state import CliState, pass_state
from wenti.domain import Issue
from wenti.i18n import N_

from wenti_sla.explain import DAY_LABELS, METRIC_LABELS, WEEKDAYS, explain_lines
from wenti_sla.translation import _


def _service(state: CliState):
    from wenti_sla import service_for

    return service_for(state.app())


_ISSUE_REF = re.compile(r"^(?:([A-Za-z][A-Za-z0-9_]*)-)?(\d+)$")


def parse_issue_ref(reference: str) -> tuple[str | None, int]:
    """`IT-42` or `42` -> (queue key in lower case or None, 42)."""
    match = _ISSUE_REF.match(reference.strip())
    if match is None:
        raise CliError(_("{value!r} is not an issue id or key; write it like 42 or IT-42.").format(value=reference), 2)
    return (match.group(1).lower() if match.group(1) else None), int(match.group(2))


def load_issue(state: CliState, reference: str) -> Issue:
    """Read the issue `reference` names; a key whose queue prefix does not match is rejected."""
    queue, issue_id = parse_issue_ref(reference)
    issue = state.app().issues.get(state.context(), issue_id)
    if queue is not None and issue.queue.lower() != queue:
        raise CliError(_("Issue {ref} does not exist; issue {number} is {key}.").format(ref=reference, number=issue_id, key=issue.key), 3)
    return issue


@click.group("sla", cls=Group, invoke_without_command=True, help=N_("Explain and recompute SLA clocks."))
@click.pass_context
def sla_group(ctx: click.Context) -> None:
    # Without a subcommand, show the help as `wenti sla --help` does, not a usage error.
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@sla_group.command("explain", cls=Command, help=N_("Show how an issue's SLA due times were computed."))
@click.argument("issue", metavar="ISSUE")
@pass_state
def sla_explain(state: CliState, issue: str) -> None:
    found = load_issue(state, issue)
    clocks, calendar = _service(state).explain(state.context().tenant_id, found.id)
    for line in explain_lines(found.key, clocks, calendar):
        click.echo(line)


@sla_group.command("recompute", cls=Command, help=N_("Compute the SLA clocks of every issue that is not closed again."))
@option("--from-history", is_flag=True, help=N_("Also extract every issue's timeline from its history first (slower)."))
@option("--all-tenants", is_flag=True, help=N_("Recompute every tenant, not only the current one."))
@pass_state
def sla_recompute(state: CliState, from_history: bool = False, all_tenants: bool = False) -> None:
    service = _service(state)
    tenants = None if all_tenants else [state.context().tenant_id]
    count = service.recompute(tenants, from_history=from_history)
    click.echo(_("Recomputed the SLA clocks of {count} issues.").format(count=count))


@sla_group.command("check", cls=Command, help=N_("Announce due SLA warnings and breaches now (the scheduler does this every minute)."))
@pass_state
def sla_check(state: CliState) -> None:
    service = _service(state)
    notices = service.check_due()
    for notice in notices:
        kind = _("breach") if notice.kind == "breached" else _("warning")
        metric = _(METRIC_LABELS[notice.metric]) if notice.metric in METRIC_LABELS else notice.metric
        issue = state.app().issues.get(service.system_context(notice.tenant_id), notice.issue_id)
        click.echo(_("Issue {issue}: {kind} for {metric}").format(issue=issue.key, kind=kind, metric=metric))
    if not notices:
        click.echo(_("No SLA warning or breach is due."))


@sla_group.command("days", cls=Command, help=N_("List holidays, make-up workdays and closed days of a calendar."))
@click.argument("calendar_name", metavar="CALENDAR", default="china")
@option("--year", type=click.IntRange(1900, 2200), help=N_("The year to list (default: this year)."))
@pass_state
def sla_days(state: CliState, calendar_name: str, year: int | None = None) -> None:
    service = _service(state)
    calendar = service.calendar(calendar_name)
    year = year or state.app().clock.now().year
    day = date(year, 1, 1)
    if calendar.is_estimated(day):
        click.echo(_("{calendar} has no holiday data for {year}; every weekday counts as a working day (estimated).").format(calendar=calendar_name, year=year))
    while day.year == year:
        info = calendar.day_info(day)
        if info.kind in DAY_LABELS and info.kind.name != "WEEKEND":
            name = f" {_(info.name)}" if info.name else ""
            click.echo(f"{day.isoformat()} {_(WEEKDAYS[day.weekday()])}  {_(DAY_LABELS[info.kind])}{name}")
        day += timedelta(days=1)
