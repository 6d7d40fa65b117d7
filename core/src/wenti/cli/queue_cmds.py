"""`wenti queue create|list`: the queues of a tenant."""

from __future__ import annotations

import click

from wenti.cli.base import CliError, Command, Group, option
from wenti.cli.output import echo_json, echo_table, to_jsonable
from wenti.cli.state import CliState, pass_state
from wenti.i18n import N_, _

# A queue that already exists is a conflict (see the exit codes in docs/cli.md).
EXIT_CONFLICT = 5


@click.group("queue", cls=Group, help=N_("Create and list queues."))
def queue_group() -> None:
    pass


@queue_group.command("create", cls=Command, help=N_("Create a queue. Needs the queue manager or admin role."))
@click.argument("key")
@option("--name", metavar="NAME", help=N_("Name people see (default: the key)."))
@option("--workflow", "workflow_key", default="default", show_default=True, metavar="KEY", help=N_("Workflow of the queue's issues."))
@option("--manager", metavar="USER", help=N_("Queue manager: receives escalations."))
@option("--category", "categories", multiple=True, metavar="CATEGORY", help=N_("Category the queue offers; repeat for several."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON instead of text."))
@pass_state
def queue_create(state: CliState, key: str, name: str | None, workflow_key: str, manager: str | None, categories: tuple[str, ...], as_json: bool) -> None:
    app, ctx = state.app(), state.context()
    # `create_queue` returns an existing queue unchanged, which would hide a typo here.
    if any(queue.key == key for queue in app.admin.list_queues(ctx)):
        raise CliError(_("Queue {queue} already exists; see wenti queue list.").format(queue=key), EXIT_CONFLICT)
    queue = app.admin.create_queue(ctx, key, name or key, workflow_key=workflow_key, manager=manager, categories=categories)
    if as_json:
        echo_json(to_jsonable(queue))
        return
    click.echo(_("Created queue {queue} ({name}).").format(queue=queue.key, name=queue.name))


@queue_group.command("list", cls=Command, help=N_("List the queues of the tenant."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON instead of a table."))
@pass_state
def queue_list(state: CliState, as_json: bool) -> None:
    app, ctx = state.app(), state.context()
    queues = app.admin.list_queues(ctx)
    if as_json:
        echo_json([to_jsonable(queue) for queue in queues])
        return
    headers = [_("Key"), _("Name"), _("Workflow"), _("Manager"), _("Categories")]
    rows = [[queue.key, queue.name, queue.workflow_key, queue.manager or "", ", ".join(queue.categories)] for queue in queues]
    echo_table(headers, rows)
