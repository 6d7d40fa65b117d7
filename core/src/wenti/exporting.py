"""Export issues to CSV or JSON Lines, in a shape `wenti import` reads back.

Both formats hold the same flat columns (`EXPORT_COLUMNS`, then one
`custom.<name>` column per custom field, then two columns per badge that plugins
give through the `issue_badges` hook, such as `sla.resolution`). CSV files are written as UTF-8 with a
byte-order mark, so Excel on Chinese Windows shows the text correctly; tags are
joined with commas there. In JSON Lines tags stay a list. Times are ISO 8601 in
UTC. `examples/mappings/wenti-export.toml` imports either format again.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import attrs

from wenti.domain import Issue
from wenti.store import IssueQuery

if TYPE_CHECKING:
    from wenti.app import App, Context

EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_COLUMNS = (
    "key",
    "id",
    "queue",
    "title",
    "description",
    "status",
    "priority",
    "category",
    "tags",
    "reporter",
    "assignee",
    "source",
    "external_id",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
)
CUSTOM_PREFIX = "custom."
PAGE_SIZE = 500


def iter_issues(app: App, ctx: Context, query: IssueQuery) -> Iterator[Issue]:
    """Every issue matching `query` that `ctx` may see, page by page."""
    page_query = attrs.evolve(query, limit=PAGE_SIZE, after=None)
    while True:
        page = app.issues.list(ctx, page_query)
        yield from page.items
        if not page.next_cursor:
            return
        page_query = attrs.evolve(page_query, after=page.next_cursor)


def issue_record(issue: Issue) -> dict[str, Any]:
    """The flat export record of one issue; times as ISO 8601 UTC strings."""
    record: dict[str, Any] = {}
    for column in EXPORT_COLUMNS:
        value = issue.key if column == "key" else getattr(issue, column)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "value"):
            value = value.value
        record[column] = value
    record["tags"] = list(issue.tags)
    for name, value in sorted(issue.custom_fields.items()):
        record[CUSTOM_PREFIX + name] = value
    return record


def badge_records(app: App, ctx: Context, issues: Iterator[Issue]) -> Iterator[dict[str, Any]]:
    """Export records with the badges plugins give through `issue_badges` (SLA state ...).

    Each badge adds two columns: `<badge name>` with its label in the language of
    `ctx` and `<badge name>.value` with its machine-readable value. Badges are asked
    for one page of issues at a time.
    """
    page: list[Issue] = []
    for issue in issues:
        page.append(issue)
        if len(page) == PAGE_SIZE:
            yield from _page_records(app, ctx, page)
            page = []
    if page:
        yield from _page_records(app, ctx, page)


def _page_records(app: App, ctx: Context, issues: list[Issue]) -> Iterator[dict[str, Any]]:
    records = {issue.id: issue_record(issue) for issue in issues}
    for badge in app.hooks.issue_badges(issues, ctx, app):
        record = records.get(badge.issue_id)
        if record is not None:
            record[badge.name] = badge.label
            record[f"{badge.name}.value"] = badge.value
    yield from records.values()


def write_jsonl(issues: Iterator[Issue | dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for issue in issues:
        record = issue if isinstance(issue, dict) else issue_record(issue)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(issues: Iterator[Issue | dict[str, Any]], out: IO[str]) -> int:
    """Write CSV; the caller opens `out` with `encoding="utf-8-sig", newline=""` for a file.

    NOTE: the custom-field columns are only known after the last issue, so the
    records are held in memory until then; an export of a few hundred thousand
    issues needs a few hundred MB.
    """
    records = [issue if isinstance(issue, dict) else issue_record(issue) for issue in issues]
    custom_columns = sorted({key for record in records for key in record if key.startswith(CUSTOM_PREFIX)})
    # Badge columns (from `badge_records`) follow the custom fields.
    custom_columns += sorted({key for record in records for key in record} - set(EXPORT_COLUMNS) - set(custom_columns))
    writer = csv.writer(out)
    writer.writerow([*EXPORT_COLUMNS, *custom_columns])
    for record in records:
        row = []
        for column in (*EXPORT_COLUMNS, *custom_columns):
            value = record.get(column)
            if column == "tags":
                value = ",".join(value)
            row.append(_cell(value))
        writer.writerow(row)
    return len(records)


def export_issues(app: App, ctx: Context, query: IssueQuery, fmt: str, out: IO[str]) -> int:
    """Write every matching issue to `out` in `fmt` (csv or jsonl); return the count."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export format {fmt!r} is not supported; use one of {', '.join(EXPORT_FORMATS)}")
    records = badge_records(app, ctx, iter_issues(app, ctx, query))
    if fmt == "jsonl":
        return write_jsonl(records, out)
    return write_csv(records, out)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, (dict, list)):
        return escape_formula(json.dumps(value, ensure_ascii=False))
    return escape_formula(str(value))


# Characters that make Excel, LibreOffice and Google Sheets read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"


def escape_formula(text: str) -> str:
    """Prefix `'` to a CSV cell a spreadsheet would run as a formula (CSV injection).

    OWASP's CSV-injection guidance names `=`, `+`, `-`, `@`, tab and carriage return
    as the characters to neutralise with a leading apostrophe. A cell that already
    starts with apostrophes before such a character gets one more, so
    `unescape_formula` restores every value exactly.
    """
    if text.lstrip(FORMULA_ESCAPE).startswith(FORMULA_TRIGGERS):
        return FORMULA_ESCAPE + text
    return text


def unescape_formula(text: str) -> str:
    """Undo `escape_formula`: drop the `'` it added, and leave every other text alone."""
    if text.startswith(FORMULA_ESCAPE) and text.lstrip(FORMULA_ESCAPE).startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text
