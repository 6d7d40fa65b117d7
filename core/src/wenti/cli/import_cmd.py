"""`wenti import FILE --mapping MAPPING.toml`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wenti.cli.base import CliError, Command, option, translate_error
from wenti.cli.state import CliState, pass_state
from wenti.i18n import N_, _

if TYPE_CHECKING:
    from wenti.app import App, Context
    from wenti.importing import ImportReport, Mapping, RejectsFile, SourceStream

# Rejected rows printed in full; the rest are counted and go to --rejects.
MAX_REJECTS_SHOWN = 20
EXIT_INVALID_MAPPING = 2


@click.command("import", cls=Command, help=N_("Import issues from a CSV, XLSX or JSON Lines file through a mapping."))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@option("--mapping", "mapping_path", required=True, type=click.Path(dir_okay=False, path_type=Path), help=N_("TOML file that maps the file's columns to issue fields."))
@option("--queue", help=N_("Queue to import into (overrides queue in the mapping)."))
@option("--dry-run", is_flag=True, help=N_("Check every row and report, without writing anything."))
@option("--rejects", "rejects_path", type=click.Path(dir_okay=False, path_type=Path), help=N_("Write rejected rows with their reasons to this CSV file."))
@option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000), help=N_("Rows written per transaction."))
@pass_state
def import_command(state: CliState, file: Path, mapping_path: Path, queue: str | None, dry_run: bool, rejects_path: Path | None, batch_size: int) -> None:
    from wenti.cli.paths import check_output_path
    from wenti.importing import MappingError, RejectsFile, load_mapping, open_source

    if rejects_path is not None:
        check_output_path(rejects_path, "--rejects")
        _check_rejects_path(rejects_path, file, mapping_path)
    try:
        mapping = load_mapping(mapping_path)
    except MappingError as error:
        # A mapping that cannot be used is a wrong command-line argument (see docs/cli.md).
        raise CliError(translate_error(error), EXIT_INVALID_MAPPING) from None
    app, ctx = state.app(), state.context()

    table = open_source(file, mapping.source)
    # Rejected rows go to a temporary file as they come, so a file whose every row
    # is rejected does not fill the memory. Only the first ones are printed.
    rejects_file = RejectsFile(rejects_path, translate_error) if rejects_path is not None else None
    try:
        report = _run(app, ctx, table, mapping, queue, dry_run, batch_size, rejects_file)
        _print_rejected(report)
        if rejects_file is not None and report.rejected_count:
            rejects_file.write()
            click.echo(_("Rejected rows written to {file}.").format(file=rejects_path), err=True)
    finally:
        if rejects_file is not None:
            rejects_file.close()

    if dry_run:
        click.echo(_("Dry run, nothing was written."))
    click.echo(
        _("Read {read} rows: {imported} imported, {duplicates} skipped as already imported, {rejected} rejected.").format(
            read=report.read, imported=report.imported, duplicates=report.duplicates, rejected=report.rejected_count
        )
    )
    # Good rows stay imported, and the exit code still shows scripts that some were rejected.
    if report.rejected_count:
        raise click.exceptions.Exit(1)


def _check_rejects_path(rejects_path: Path, file: Path, mapping_path: Path) -> None:
    """Raise `CliError` when --rejects names the file to import or the mapping, which writing the rejects would replace."""
    from wenti.cli.paths import EXIT_BAD_PATH

    example = rejects_path.with_name(f"{rejects_path.stem}-rejected.csv")
    for source, message in (
        (file, N_("{option} {file} is the file being imported, and writing the rejected rows would replace it. Choose another file, such as {example}.")),
        (mapping_path, N_("{option} {file} is the mapping file, and writing the rejected rows would replace it. Choose another file, such as {example}.")),
    ):
        try:
            same = os.path.samefile(rejects_path, source)
        except OSError:
            # One of the two does not exist yet, so they cannot be the same file.
            continue
        if same:
            raise CliError(_(message).format(option="--rejects", file=rejects_path, example=example), EXIT_BAD_PATH)



def _run(
    app: App, ctx: Context, table: SourceStream, mapping: Mapping, queue: str | None, dry_run: bool, batch_size: int, rejects_file: RejectsFile | None
) -> ImportReport:
    from wenti.importing import MappingError, run_import
    from wenti.importing.runner import check_columns, check_targets

    try:
        # Checked again inside run_import; here so that no progress bar shows before the error.
        check_columns(table, mapping)
        check_targets(app, ctx, mapping, queue)
        with click.progressbar(length=table.row_count, label=_("Importing"), file=sys.stderr) as bar:
            return run_import(
                app,
                ctx,
                table.path,
                mapping,
                queue=queue,
                dry_run=dry_run,
                batch_size=batch_size,
                on_progress=bar.update,
                table=table,
                on_rejected=rejects_file.add if rejects_file is not None else None,
                keep_rejected=MAX_REJECTS_SHOWN,
            )
    except MappingError as error:
        raise CliError(translate_error(error), EXIT_INVALID_MAPPING) from None
    except KeyboardInterrupt:
        if not dry_run:
            click.echo(
                _("Import interrupted. Batches written so far stay imported; run the same command again to import the rest, without duplicates."),
                err=True,
            )
        raise


def _print_rejected(report: ImportReport) -> None:
    from wenti.importing import RowRejected

    for rejection in report.rejected:
        reason = translate_error(rejection.error)
        if isinstance(rejection.error, RowRejected):
            # These messages start with the row number already ("row 4: ...").
            click.echo(_("Rejected {reason}").format(reason=reason), err=True)
        else:
            click.echo(_("Rejected row {row}: {reason}").format(row=rejection.row, reason=reason), err=True)
    hidden = report.rejected_count - len(report.rejected)
    if hidden > 0:
        click.echo(_("... and {count} more rejected rows; use --rejects FILE to get them all.").format(count=hidden), err=True)
