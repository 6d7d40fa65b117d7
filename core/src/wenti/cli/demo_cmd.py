"""`wenti demo`: load the demo organisation and its generated issues."""

from __future__ import annotations

import sys

import click

from wenti.cli.base import Command, option
from wenti.cli.output import echo_table
from wenti.cli.state import CliState, pass_state
from wenti.i18n import N_, _


@click.command("demo", cls=Command, help=N_("Load a demo organisation: three queues, their teams and about a year of issues."))
@option("--seed", default=1, show_default=True, type=int, help=N_("Seed of the generator; the same seed on the same day gives the same issues."))
@option("--issues", "count", default=2000, show_default=True, type=click.IntRange(0, 100000), help=N_("Number of issues to generate."))
@pass_state
def demo(state: CliState, seed: int, count: int) -> None:
    from wenti.demo import DEMO_SOURCE, QUEUES, everyone, load_demo
    from wenti.store import IssueQuery

    app = state.app()
    tenant_id = state.tenant
    with click.progressbar(length=count, label=_("Generating demo issues"), file=sys.stderr) as bar:
        report = load_demo(app, tenant_id, seed=seed, count=count, on_progress=bar.update)

    click.echo(
        _("Demo issues: {created} created, {skipped} already present, {failed} failed.").format(
            created=report.created, skipped=report.skipped, failed=len(report.failed)
        )
    )
    for external_id, error in report.failed[:10]:
        click.echo(_("{id}: {error}").format(id=external_id, error=error), err=True)

    admin_ctx = app.context(tenant_id, "admin")
    counts = app.issues.count_by(admin_ctx, ["queue", "status"], IssueQuery(source=DEMO_SOURCE))
    workflows = {queue.key: queue.workflow for queue in QUEUES}
    rows = []
    for (queue_key, status), number in sorted(counts.items()):
        workflow = workflows.get(queue_key)
        state_obj = workflow.state(status) if workflow is not None else None
        rows.append([queue_key, _(state_obj.name) if state_obj is not None else status, str(number)])
    click.echo("")
    echo_table([_("Queue"), _("Status"), _("Issues")], rows)

    click.echo("")
    click.echo(_("Users (log in with these usernames; the web plugin prints a password for each when `wenti serve` first starts, and `wenti web set-password` changes one):"))
    role_labels = {"admin": N_("admin"), "queue_manager": N_("queue manager"), "agent": N_("agent"), "reporter": N_("reporter")}
    people = [[person.username, person.display_name, _(role_labels[person.role.value])] for person in everyone()]
    echo_table([_("Username"), _("Name"), _("Role")], people)
