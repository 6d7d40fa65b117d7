"""The import run: read the file, map each row, hand batches to the issue service.

Rows are imported in batches of `BATCH_SIZE`, and each batch is one transaction in
`app.issues.import_batch`. That call skips external ids already stored, so running
the same import twice adds nothing. A row the mapping or the service rejects is
reported with its row number and reason while the other rows go on.
"""

from __future__ import annotations

import csv
import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from wenti.errors import NotFound, ValidationFailed, WentiError
from wenti.i18n import N_
from wenti.importing.mapping import Mapping, MappingError, ValueMap
from wenti.importing.readers import SourceFileError, SourceRow, SourceStream, SourceTable, open_source
from wenti.importing.transform import RowMapper, RowRejected
from wenti.services import fields as F
from wenti.services.importing import ImportedIssue
from wenti.workflows import default_workflow

if TYPE_CHECKING:
    from wenti.app import App, Context

log = logging.getLogger(__name__)

BATCH_SIZE = 500


@attrs.define
class Rejection:
    row: int
    error: WentiError
    values: dict[str, Any]


@attrs.define
class ImportReport:
    """Counts and rejected rows of one import. `read == imported + duplicates + rejected_count`.

    `rejected` contains the rejected rows in row order, at most `keep_rejected` of
    them when that is set, so that a file whose every row is rejected does not fill
    the memory. `rejected_count` counts all of them.
    """

    file: str
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = attrs.Factory(list)
    dry_run: bool = False
    encoding: str | None = None
    rejected_count: int = 0
    keep_rejected: int | None = None

    @property
    def counts_add_up(self) -> bool:
        return self.read == self.imported + self.duplicates + self.rejected_count

    def add_rejected(self, rejections: Sequence[Rejection]) -> None:
        self.rejected_count += len(rejections)
        room = len(rejections) if self.keep_rejected is None else max(self.keep_rejected - len(self.rejected), 0)
        self.rejected.extend(rejections[:room])


def run_import(
    app: App,
    ctx: Context,
    path: str | Path,
    mapping: Mapping,
    *,
    queue: str | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
    table: SourceTable | SourceStream | None = None,
    on_rejected: Callable[[Sequence[Rejection]], None] | None = None,
    keep_rejected: int | None = None,
) -> ImportReport:
    """Import `path` with `mapping` as `ctx`; `queue` overrides the mapping's queue.

    Rows are read from the file one batch at a time. Raises `SourceFileError` when
    the file cannot be read at all (nothing is imported then); individual bad rows
    end up in `ImportReport.rejected`, of which at most `keep_rejected` are kept.
    `on_rejected` receives every batch's rejected rows in row order, for callers
    that write all of them out. Pass `table` when the caller has already opened or
    read the file.
    """
    if table is None:
        table = open_source(path, mapping.source)
    check_columns(table, mapping)
    check_targets(app, ctx, mapping, queue)
    mapper = RowMapper(mapping, queue)
    report = ImportReport(file=str(path), dry_run=dry_run, encoding=table.encoding, keep_rejected=keep_rejected)
    log.info("import start tenant=%s file=%s rows=%d dry_run=%s", ctx.tenant_id, path, table.row_count, dry_run)

    # A dry run writes nothing, so ids seen in earlier batches are remembered here.
    seen: set[tuple[str, str]] = set()
    batch: list[SourceRow] = []
    # Rows of the current batch that the reader, the mapping or the service rejected.
    # Every row of a batch comes before the rows of the next one, so sorting per
    # batch gives the file's row order.
    rejected: list[Rejection] = []
    read_before = 0
    for row, error in table.items():
        report.read += 1
        if error is not None:
            rejected.append(Rejection(row.number, error, row.values))
        else:
            batch.append(row)
        if len(batch) >= batch_size:
            _import_batch(app, ctx, batch, mapper, report, dry_run, seen, rejected)
            _report_rejected(report, rejected, on_rejected)
            batch = []
            rejected = []
            if on_progress is not None:
                on_progress(report.read - read_before)
            read_before = report.read
    if batch:
        _import_batch(app, ctx, batch, mapper, report, dry_run, seen, rejected)
    _report_rejected(report, rejected, on_rejected)
    if on_progress is not None and report.read > read_before:
        on_progress(report.read - read_before)

    log.info(
        "import done tenant=%s file=%s read=%d imported=%d duplicates=%d rejected=%d",
        ctx.tenant_id, path, report.read, report.imported, report.duplicates, report.rejected_count,
    )
    return report


def check_columns(table: SourceTable | SourceStream, mapping: Mapping) -> None:
    """Fail before the first row when the mapping names a column the file lacks.

    JSON Lines records may leave out keys, so a missing key there is an empty value.
    """
    if table.format == "jsonl":
        return
    missing = sorted(mapping.columns() - set(table.columns))
    if missing and len(missing) == len(mapping.columns()) and table.encoding not in (None, "utf-8-sig"):
        # Every mapped column is missing: a file in another encoding (Big5 read as
        # GB18030) decodes without error but gives a header of wrong characters.
        raise SourceFileError(
            N_("{file}: none of the columns the mapping reads ({missing}) is in the file, which was read as {encoding}. The encoding may be wrong: set encoding = \"...\" in [source] of the mapping (for example \"big5\"). The columns as read: {columns}."),
            file=table.path,
            missing=", ".join(missing),
            encoding=table.encoding,
            columns=", ".join(table.columns),
        )
    if missing:
        raise SourceFileError(
            N_("{file}: the mapping reads column(s) {missing} which the file does not have. The file's columns are: {columns}. Fix the column names in the mapping."),
            file=table.path,
            missing=", ".join(missing),
            columns=", ".join(table.columns),
        )


def check_targets(app: App, ctx: Context, mapping: Mapping, queue: str | None = None) -> None:
    """Fail before the first row when the import would write to a queue or status that does not exist.

    Checked are `queue` (the --queue option), the mapping's `queue`, and the
    targets of `[values.queue]`. The targets of `[values.status]` are checked
    against the workflow of the queue when every row goes to one known queue;
    with a queue column the statuses are checked row by row. Raises `NotFound`
    for a missing queue and `MappingError` for a status that is not in the workflow.
    """
    with app.uow(ctx.tenant_id) as uow:
        queues = {item.key: item for item in uow.queues.list()}
        workflows = {key: uow.workflows.get(item.workflow_key) or default_workflow() for key, item in queues.items()}

    wanted: list[tuple[str, str]] = []
    if queue:
        wanted.append((queue, "--queue"))
    else:
        if mapping.queue:
            wanted.append((mapping.queue, f"{mapping.path}: queue"))
        queue_values = mapping.values.get("queue")
        if "queue" in mapping.fields and queue_values is not None:
            where = f"{mapping.path}: [values.queue]"
            wanted.extend((target, where) for target in _value_map_targets(queue_values))

    for key, where in wanted:
        if key not in queues:
            existing = sorted(queues)
            raise NotFound(
                N_(
                    "Queue {queue!r} (from {where}) does not exist in tenant {tenant}; its queues are: {choices}. "
                    "Pass --queue {example}, or create the queue first with: wenti queue create {queue}"
                ),
                queue=key,
                where=where,
                tenant=ctx.tenant_id,
                choices=", ".join(existing) or "-",
                example=existing[0] if existing else "general",
            )

    fixed_queue = queue or (mapping.queue if "queue" not in mapping.fields else None)
    status_values = mapping.values.get("status")
    if fixed_queue is None or status_values is None or "status" not in mapping.fields:
        return
    workflow = workflows[fixed_queue]
    for status in _value_map_targets(status_values):
        if workflow.state(status) is None:
            raise MappingError(
                N_(
                    "{file}: [values.status] maps to status {value!r}, which workflow {workflow} of queue {queue} "
                    "does not have. Use one of: {choices}."
                ),
                file=mapping.path,
                value=status,
                workflow=workflow.key,
                queue=fixed_queue,
                choices=", ".join(state.key for state in workflow.states),
            )


def _value_map_targets(values: ValueMap) -> list[str]:
    """The wenti values a value map can produce, in file order, without repeats."""
    targets = [*values.mapping.values(), values.default, values.other]
    return list(dict.fromkeys(target for target in targets if target))


def _report_rejected(report: ImportReport, rejected: list[Rejection], on_rejected: Callable[[Sequence[Rejection]], None] | None) -> None:
    if not rejected:
        return
    for rejection in rejected:
        # A caught error's traceback references the frame that references this list.
        # Only the cyclic garbage collector frees such a cycle, so rows would pile up.
        rejection.error.__traceback__ = None
    rejected.sort(key=lambda rejection: rejection.row)
    report.add_rejected(rejected)
    if on_rejected is not None:
        on_rejected(rejected)


def _import_batch(
    app: App,
    ctx: Context,
    batch: Sequence[SourceRow],
    mapper: RowMapper,
    report: ImportReport,
    dry_run: bool,
    seen: set[tuple[str, str]],
    rejected: list[Rejection],
) -> None:
    mapped: list[tuple[SourceRow, ImportedIssue]] = []
    for row in batch:
        try:
            mapped.append((row, ImportedIssue(**mapper.map_row(row))))
        except RowRejected as error:
            rejected.append(Rejection(row.number, error, row.values))
    if not mapped:
        return

    issues = [issue for _row, issue in mapped]
    if dry_run:
        imported, duplicates, service_rejected = _check_without_writing(app, ctx, issues, seen)
    else:
        result = app.issues.import_batch(ctx, issues)
        imported, duplicates, service_rejected = len(result.imported), len(result.duplicates), result.rejected

    report.imported += imported
    report.duplicates += duplicates
    for index, error in service_rejected:
        row = mapped[index][0]
        rejected.append(Rejection(row.number, error, row.values))


def _check_without_writing(
    app: App, ctx: Context, issues: Sequence[ImportedIssue], seen: set[tuple[str, str]]
) -> tuple[int, int, list[tuple[int, WentiError]]]:
    """Run the service's field checks and the duplicate lookup, and write nothing."""
    with app.uow(ctx.tenant_id) as uow:
        queues = {queue.key: queue for queue in uow.queues.list()}
        workflows = {}
        by_source: dict[str, list[str]] = {}
        for issue in issues:
            if issue.external_id:
                by_source.setdefault(issue.source, []).append(issue.external_id)
        known = {(source, external_id) for source, ids in by_source.items() for external_id in uow.issues.find_external_ids(source, ids)}
        for key, queue in queues.items():
            workflows[key] = uow.workflows.get(queue.workflow_key) or default_workflow()

    imported = duplicates = 0
    rejected: list[tuple[int, WentiError]] = []
    for index, issue in enumerate(issues):
        key = (issue.source, issue.external_id)
        if issue.external_id and (key in known or key in seen):
            duplicates += 1
            continue
        try:
            queue = queues.get(issue.queue or "")
            if queue is None:
                raise ValidationFailed(
                    N_("Queue {value!r} does not exist; use one of: {choices}."), value=issue.queue, choices=", ".join(queues) or "-"
                )
            F.check_title(issue.title)
            F.parse_priority(issue.priority)
            F.check_category(queue, issue.category)
            F.check_custom_fields(queue, issue.custom_fields)
            if issue.status:
                F.check_status(workflows[queue.key], issue.status)
        except WentiError as error:
            rejected.append((index, error))
            continue
        if issue.external_id:
            seen.add((issue.source, issue.external_id))
        imported += 1
    return imported, duplicates, rejected


class RejectsFile:
    """A CSV file of rejected rows, fed batch by batch so that the rows stay out of memory.

    The columns of JSON Lines records are known only at the end, so `add` stores
    the rows in a temporary file and `write` writes the CSV from it, laid out as
    `write_rejects` does. `close` drops the temporary file.
    """

    def __init__(self, path: str | Path, translate: Callable[[WentiError], str]) -> None:
        self.path = Path(path)
        self.translate = translate
        self.columns: dict[str, None] = {}
        self.count = 0
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")

    def add(self, rejections: Sequence[Rejection]) -> None:
        for rejection in rejections:
            values = {key: _cell(value) for key, value in rejection.values.items()}
            for key in values:
                self.columns.setdefault(key)
            json.dump([rejection.row, self.translate(rejection.error), values], self._spool, ensure_ascii=False)
            self._spool.write("\n")
            self.count += 1

    def write(self) -> None:
        self._spool.seek(0)
        with open(self.path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*_rejects_header(self.columns), *self.columns])
            for line in self._spool:
                row, reason, values = json.loads(line)
                writer.writerow([row, reason, *(values.get(column, "") for column in self.columns)])

    def close(self) -> None:
        self._spool.close()


def write_rejects(path: str | Path, report: ImportReport, translate: Callable[[WentiError], str]) -> None:
    """Write rejected rows as CSV (UTF-8 with BOM so Excel shows Chinese): row, reason, then the source columns."""
    columns: dict[str, None] = {}
    for rejection in report.rejected:
        for key in rejection.values:
            columns.setdefault(key)
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*_rejects_header(columns), *columns])
        for rejection in report.rejected:
            writer.writerow([rejection.row, translate(rejection.error), *(_cell(rejection.values.get(c)) for c in columns)])


def _rejects_header(columns: dict[str, None]) -> tuple[str, str]:
    """Name the row and reason columns of a rejects file so that no source column has the same name.

    A header with a name twice could not be imported again once the rows are fixed.
    """
    names = []
    for name in ("row", "reason"):
        while name in columns:
            name = f"_{name}"
        names.append(name)
    return names[0], names[1]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)
