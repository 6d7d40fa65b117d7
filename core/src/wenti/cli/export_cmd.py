"""`wenti export`: issues to CSV (UTF-8 with BOM) or JSON Lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wenti.cli.base import CliError, Command, option
from wenti.cli.issue_cmds import check_status_filters, parse_created_range
from wenti.cli.paths import check_output_path
from wenti.cli.state import CliState, pass_state
from wenti.domain import Priority
from wenti.exporting import EXPORT_FORMATS, export_issues
from wenti.i18n import N_, _
from wenti.store import IssueQuery


@click.command("export", cls=Command, help=N_("Export issues to CSV or JSON Lines; wenti import reads the files back."))
@option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), help=N_("File format (default: from the --out suffix, else csv)."))
@option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), help=N_("File to write (default: standard output)."))
@option("--queue", "queues", multiple=True, help=N_("Only this queue; repeat for several."))
@option("--status", "statuses", multiple=True, help=N_("Only this status key; repeat for several."))
@option("--priority", "priorities", multiple=True, type=click.Choice([p.value for p in Priority]), help=N_("Only this priority; repeat for several."))
@option("--category", "categories", multiple=True, help=N_("Only this category; repeat for several."))
@option("--assignee", "assignees", multiple=True, help=N_("Only issues assigned to this user; repeat for several."))
@option("--created-from", metavar="DATE", help=N_("Created on or after this date or time (tenant time zone)."))
@option("--created-to", metavar="DATE", help=N_("Created on or before this date or time (tenant time zone)."))
@pass_state
def export_command(state: CliState, fmt: str | None, out_path: Path | None, queues: tuple[str, ...], statuses: tuple[str, ...], priorities: tuple[str, ...], categories: tuple[str, ...], assignees: tuple[str, ...], created_from: str | None, created_to: str | None) -> None:
    if out_path is not None:
        check_output_path(out_path, "--out")
    app, ctx = state.app(), state.context()
    if fmt is None:
        suffix = out_path.suffix.lower().lstrip(".") if out_path is not None else ""
        fmt = "jsonl" if suffix in ("jsonl", "ndjson") else "csv"
    check_status_filters(state, statuses)
    created_start, created_end = parse_created_range(created_from, created_to, ctx.timezone)
    query = IssueQuery(
        queue=queues,
        status=statuses,
        priority=priorities,
        category=categories,
        assignee=assignees,
        created_from=created_start,
        created_to=created_end,
        sort=("id",),
    )

    if out_path is None:
        export_issues(app, ctx, query, fmt, sys.stdout)
        return

    # Written next to the target and renamed at the end, so a failed export never
    # leaves a truncated file where the old one was.
    temporary = out_path.with_name(out_path.name + ".part")
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    try:
        with open(temporary, "w", encoding=encoding, newline="") as handle:
            count = export_issues(app, ctx, query, fmt, handle)
        temporary.replace(out_path)
    except OSError as error:
        raise CliError(_("Cannot write {file}: {error}. Check that the folder exists and is writable.").format(file=out_path, error=error.strerror or error)) from None
    finally:
        temporary.unlink(missing_ok=True)
    click.echo(_("Exported {count} issues to {file}.").format(count=count, file=out_path), err=True)
