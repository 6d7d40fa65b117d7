"""The issue repository: writes with version compare-and-swap, and issue lists.

Lists use keyset pagination: the cursor stores the sort-key values of the last
issue on a page, and the next page starts strictly after them. Issues inserted
while a reader pages through therefore never shift the pages, so no issue is
returned twice and none that existed when the first page was read is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs
from sqlalchemy import ColumnElement, and_, bindparam, delete, false, func, insert, literal, or_, select, update

from wenti.domain import Issue, Priority
from wenti.store import SORTABLE_FIELDS, ConcurrencyConflict, IssueQuery, Page
from wenti_sql import counts, cursor, tables
from wenti_sql.errors import UnsupportedQuery
from wenti_sql.mapping import json_safe
from wenti_sql.rawinsert import RawInsert
from wenti_sql.repositories import Repository
from wenti_sql.types import UTCDateTime

MAX_PAGE_SIZE = 1000

# Fields `count_by` can group on: the low-cardinality columns reports use.
GROUPABLE_FIELDS = ("queue", "status", "assignee", "reporter", "priority", "category", "source")

# `find_external_ids` sends at most this many ids per statement, which keeps it
# under SQLite's limit of bound parameters on every version.
EXTERNAL_ID_BATCH = 500

# Issues not yet resolved sort after all resolved ones in ascending order. A
# sentinel instead of NULL keeps the keyset comparison plain on every backend,
# which order NULLs differently.
_NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)

_issues = tables.issues

# Custom field keys that can be written into a JSON path safely: letters (Chinese
# included), digits, '_' and '-'.
_FIELD_KEY = re.compile(r"[\w-]+")

_DATETIME_FIELDS = ("created_at", "updated_at", "first_responded_at", "resolved_at", "closed_at")

# The columns an issue write sets, in the order `SqlIssueRepository._values` returns them.
ISSUE_COLUMNS = (
    "tenant_id", "queue", "title", "description", "reporter", "status", "priority", "priority_rank",
    "category", "tags", "custom_fields", "assignee", "source", "external_id", *_DATETIME_FIELDS, "version",
)
_INSERT_ISSUE = RawInsert(_issues, ISSUE_COLUMNS, returning="id")
_COUNT_KEY_POSITIONS = tuple(ISSUE_COLUMNS.index(name) for name in ("tenant_id", "queue", "status", "category", "priority"))


def _count_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(row[position] for position in _COUNT_KEY_POSITIONS)


def sort_expression(field: str) -> ColumnElement[Any]:
    if field == "priority":
        return _issues.c.priority_rank
    if field == "resolved_at":
        return func.coalesce(_issues.c.resolved_at, literal(_NEVER, UTCDateTime()))
    return _issues.c[field]


def normalized_sort(query: IssueQuery) -> tuple[str, ...]:
    """Validate the sort fields and append `id` as the final tie-breaker."""
    sort = tuple(query.sort)
    for item in sort:
        if item.lstrip("-") not in SORTABLE_FIELDS or item.startswith("--"):
            raise UnsupportedQuery(reason=f"cannot sort by {item!r}; use one of {', '.join(SORTABLE_FIELDS)}, optionally prefixed with '-'")
    if not any(item.lstrip("-") == "id" for item in sort):
        sort = (*sort, "id")
    return sort


class SqlIssueRepository(Repository):
    def get(self, issue_id: int) -> Issue | None:
        statement = self.scoped(_issues).where(_issues.c.id == issue_id)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else self._issue(row)

    def add(self, issue: Issue) -> Issue:
        return self.add_many([issue])[0]

    def add_many(self, issues: Sequence[Issue]) -> list[Issue]:
        """Insert the issues with one executemany and set their ids, in input order."""
        if not issues:
            return []
        rows = [self._values(issue) for issue in issues]
        with self.translate_integrity("issue", _external_ids(issues)):
            ids = self._insert_returning_ids(rows)

        counts.add_inserted(self.connection, [_count_key(row) for row in rows])

        for issue, issue_id in zip(issues, ids):
            issue.id = issue_id
        self._write_tags(issues)
        return list(issues)

    def _insert_returning_ids(self, rows: list[tuple[Any, ...]]) -> list[int]:
        dialect = self.connection.dialect
        if len(rows) == 1:
            return [_INSERT_ISSUE.insert_one(self.connection, rows[0])]
        if dialect.name == "sqlite":
            return self._insert_many_sqlite(rows)
        if dialect.insert_executemany_returning_sort_by_parameter_order:
            statement = insert(_issues).returning(_issues.c.id, sort_by_parameter_order=True)
            return [row[0] for row in self.connection.execute(statement, [dict(zip(ISSUE_COLUMNS, row)) for row in rows])]
        # MySQL has no INSERT ... RETURNING, so each row is inserted on its own to
        # learn its id.
        # NOTE: this path has not run against a MySQL server; the tests use MariaDB.
        return [_INSERT_ISSUE.insert_one(self.connection, row) for row in rows]

    def _insert_many_sqlite(self, rows: list[tuple[Any, ...]]) -> list[int]:
        # SQLite does not promise the order of RETURNING rows, so SQLAlchemy would send
        # one INSERT per row to match ids to rows. One executemany is faster, and its
        # ids can be read back. SQLite gives a new row the largest rowid plus one, and
        # this transaction holds the write lock from its first INSERT to its commit.
        # The batch's ids are therefore the newest ones, in order.
        _INSERT_ISSUE.insert_many(self.connection, rows)
        newest = select(_issues.c.id).order_by(_issues.c.id.desc()).limit(len(rows))
        ids = list(reversed(self.connection.execute(newest).scalars().all()))
        if len(ids) != len(rows) or ids[-1] - ids[0] != len(rows) - 1:
            raise RuntimeError(f"issue ids {ids[:3]}… of a batch of {len(rows)} are not consecutive; the batch was not matched to its ids")
        return ids

    def update(self, issue: Issue, expected_version: int) -> None:
        """Write every field of `issue` if the stored version is still `expected_version`."""
        self.check_tenant("issue", issue.tenant_id)
        if issue.id is None:
            raise ValueError(f"issue {issue.title!r} has no id; add it before updating it")
        values = dict(zip(ISSUE_COLUMNS, self._values(issue)))
        del values["tenant_id"]
        statement = (
            update(_issues)
            .where(_issues.c.id == issue.id, _issues.c.tenant_id == self.tenant_id, _issues.c.version == expected_version)
            .values(**values)
        )
        with self.translate_integrity("issue", issue.external_id):
            result = self.connection.execute(statement)
        if result.rowcount != 1:
            raise ConcurrencyConflict(self._conflict_message(issue.id, expected_version))

        self.connection.execute(delete(tables.issue_tags).where(tables.issue_tags.c.issue_id == issue.id))
        self._write_tags([issue])

    def find_by_external_id(self, source: str, external_id: str) -> Issue | None:
        statement = self.scoped(_issues).where(_issues.c.source == source, _issues.c.external_id == external_id)
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else self._issue(row)

    def find_external_ids(self, source: str, external_ids: Iterable[str]) -> dict[str, int]:
        """Map those of `external_ids` already stored for `source` to their issue ids."""
        wanted = list(dict.fromkeys(external_ids))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), EXTERNAL_ID_BATCH):
            batch = wanted[start : start + EXTERNAL_ID_BATCH]
            statement = select(_issues.c.external_id, _issues.c.id).where(
                _issues.c.tenant_id == self.tenant_id,
                _issues.c.source == source,
                _issues.c.external_id.in_(batch),
            )
            found.update({external_id: issue_id for external_id, issue_id in self.connection.execute(statement)})
        return found

    def list(self, query: IssueQuery) -> Page:
        if not 1 <= query.limit <= MAX_PAGE_SIZE:
            raise UnsupportedQuery(reason=f"limit {query.limit} is out of range; use 1 to {MAX_PAGE_SIZE}, or iter_all for exports")
        sort = normalized_sort(query)
        statement = self._filtered(select(_issues), query)
        if query.after is not None:
            statement = statement.where(_after(sort, cursor.decode(query.after, sort)))
        statement = statement.order_by(*_order_by(sort)).limit(query.limit + 1)

        rows = self.connection.execute(statement).mappings().all()
        items = [self._issue(row) for row in rows[: query.limit]]
        next_cursor = None
        if len(rows) > query.limit:
            next_cursor = cursor.encode(sort, _sort_values(sort, items[-1]))
        return Page(items=items, next_cursor=next_cursor)

    def count(self, query: IssueQuery) -> int:
        if counts.answerable((), query):
            return counts.count(self.connection, self.tenant_id, _stored_priorities(query))
        statement = self._filtered(select(func.count()).select_from(_issues), query)
        return int(self.connection.execute(statement).scalar_one())

    def count_by(self, fields: Sequence[str], query: IssueQuery) -> dict[tuple[Any, ...], int]:
        """Count matching issues per combination of `fields` values; None stands for unset."""
        if not fields:
            raise UnsupportedQuery(reason=f"count_by needs at least one field; use one of {', '.join(GROUPABLE_FIELDS)}")
        for field in fields:
            if field not in GROUPABLE_FIELDS:
                raise UnsupportedQuery(reason=f"cannot group by {field!r}; use one of {', '.join(GROUPABLE_FIELDS)}")
        if counts.answerable(fields, query):
            return counts.count_by(self.connection, self.tenant_id, fields, _stored_priorities(query))
        columns = [_issues.c[field] for field in fields]
        statement = self._filtered(select(*columns, func.count()).select_from(_issues), query).group_by(*columns)
        return {tuple(row[:-1]): int(row[-1]) for row in self.connection.execute(statement)}

    def iter_all(self, query: IssueQuery, batch_size: int = 1000) -> Iterator[Issue]:
        """Yield every matching issue in the query's sort order, reading `batch_size` at a time."""
        if batch_size < 1:
            raise UnsupportedQuery(reason=f"batch_size {batch_size} must be at least 1")
        page_query = attrs.evolve(query, limit=min(batch_size, MAX_PAGE_SIZE))
        while True:
            page = self.list(page_query)
            yield from page.items
            if page.next_cursor is None:
                return
            page_query = attrs.evolve(page_query, after=page.next_cursor)

    def _filtered(self, statement: Any, query: IssueQuery) -> Any:
        return statement.where(_issues.c.tenant_id == self.tenant_id, *self._conditions(query))

    def _conditions(self, query: IssueQuery) -> list[ColumnElement[bool]]:
        if query.status_category:
            raise UnsupportedQuery(
                reason="status_category is not stored with the issue; the service layer translates it into status before it calls the repository"
            )
        conditions: list[ColumnElement[bool]] = [_custom_field_condition(key, value) for key, value in query.extra.items()]
        for field in ("queue", "status", "category"):
            values = getattr(query, field)
            if values:
                conditions.append(_issues.c[field].in_(values))
        if query.priority:
            conditions.append(_issues.c.priority.in_([_priority(value).value for value in query.priority]))
        if query.assignee and query.unassigned:
            conditions.append(or_(_issues.c.assignee.in_(query.assignee), _issues.c.assignee.is_(None)))
        elif query.assignee:
            conditions.append(_issues.c.assignee.in_(query.assignee))
        elif query.unassigned:
            conditions.append(_issues.c.assignee.is_(None))
        if query.reporter is not None:
            conditions.append(_issues.c.reporter == query.reporter)
        if query.source is not None:
            conditions.append(_issues.c.source == query.source)
        if query.tag is not None:
            tagged = select(tables.issue_tags.c.issue_id).where(
                tables.issue_tags.c.tenant_id == self.tenant_id, tables.issue_tags.c.tag == query.tag
            )
            conditions.append(_issues.c.id.in_(tagged))
        if query.text:
            pattern = "%" + _escape_like(query.text) + "%"
            conditions.append(
                or_(_issues.c.title.ilike(pattern, escape="\\"), _issues.c.description.ilike(pattern, escape="\\"))
            )
        if query.created_from is not None:
            conditions.append(_issues.c.created_at >= query.created_from)
        if query.created_to is not None:
            conditions.append(_issues.c.created_at < query.created_to)
        if query.ids is not None:
            conditions.append(_ids_condition(query.ids))
        return conditions

    def _values(self, issue: Issue) -> tuple[Any, ...]:
        """Return the column values of `issue` in `ISSUE_COLUMNS` order."""
        self.check_tenant("issue", issue.tenant_id)
        if issue.created_at is None:
            raise ValueError(f"issue {issue.title!r} has no created_at; the service layer sets it from its clock")
        for field in _DATETIME_FIELDS:
            value = getattr(issue, field)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"issue {issue.title!r} has a naive {field} {value.isoformat()}; attach a time zone before storing it")
        priority = _priority(issue.priority)
        tags = list(issue.tags)
        if not all(type(tag) is str for tag in tags):
            tags = json_safe(tags)
        return (
            issue.tenant_id,
            issue.queue,
            issue.title,
            issue.description,
            issue.reporter,
            issue.status,
            priority.value,
            priority.rank,
            issue.category,
            tags,
            json_safe(issue.custom_fields) if issue.custom_fields else {},
            issue.assignee,
            issue.source,
            issue.external_id,
            issue.created_at,
            issue.updated_at if issue.updated_at is not None else issue.created_at,
            issue.first_responded_at,
            issue.resolved_at,
            issue.closed_at,
            issue.version,
        )

    def _write_tags(self, issues: Sequence[Issue]) -> None:
        rows = [
            {"issue_id": issue.id, "tag": tag, "tenant_id": issue.tenant_id}
            for issue in issues
            for tag in dict.fromkeys(issue.tags)
        ]
        if rows:
            self.connection.execute(insert(tables.issue_tags), rows)

    def _issue(self, row: Any) -> Issue:
        # Built field by field: this runs once per listed issue, and the shared
        # converter's generic structuring took a quarter of a 50-issue list request.
        return Issue(
            tenant_id=row["tenant_id"],
            queue=row["queue"],
            title=row["title"],
            reporter=row["reporter"],
            status=row["status"],
            description=row["description"],
            priority=Priority(row["priority"]),
            category=row["category"],
            tags=[str(tag) for tag in row["tags"] or ()],
            custom_fields=dict(row["custom_fields"] or {}),
            assignee=row["assignee"],
            source=row["source"],
            external_id=row["external_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            first_responded_at=row["first_responded_at"],
            resolved_at=row["resolved_at"],
            closed_at=row["closed_at"],
            version=row["version"],
            id=row["id"],
        )

    def _conflict_message(self, issue_id: int, expected_version: int) -> str:
        statement = select(_issues.c.version).where(_issues.c.id == issue_id, _issues.c.tenant_id == self.tenant_id)
        stored = self.connection.execute(statement).scalar_one_or_none()
        if stored is None:
            return f"issue {issue_id} does not exist in tenant {self.tenant_id}"
        return f"issue {issue_id} is at version {stored}, not the expected version {expected_version}"


def _priority(value: Any) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise UnsupportedQuery(
            reason=f"priority {value!r} is unknown; use one of {', '.join(p.value for p in Priority)}"
        ) from None


def _stored_priorities(query: IssueQuery) -> IssueQuery:
    """Return `query` with its priority filter checked and turned into stored values."""
    return attrs.evolve(query, priority=tuple(_priority(value).value for value in query.priority))


def _custom_field_condition(key: str, value: Any) -> ColumnElement[bool]:
    """Filter on one custom field: `extra={"custom_fields.device": "HP"}`.

    A list or tuple of values matches any of them. The JSON value is compared as
    text, integer, number or boolean, after the type of the first filter value.
    """
    prefix, _, field = key.partition(".")
    if prefix != "custom_fields" or not _FIELD_KEY.fullmatch(field):
        raise UnsupportedQuery(
            reason=f"the SQL backend has no filter {key!r}; IssueQuery.extra takes custom field filters written as 'custom_fields.<key>'"
        )
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        return false()
    element = _issues.c.custom_fields[field]
    first = values[0]
    if isinstance(first, bool):
        typed = element.as_boolean()
    elif isinstance(first, int):
        typed = element.as_integer()
    elif isinstance(first, float):
        typed = element.as_float()
    elif isinstance(first, str):
        typed = element.as_string()
    else:
        raise UnsupportedQuery(reason=f"custom field filter {key!r} has the value {first!r}; use text, a number or a boolean")
    for item in values:
        if _value_kind(item) != _value_kind(first):
            raise UnsupportedQuery(reason=f"custom field filter {key!r} mixes {first!r} and {item!r}; give values of one type")
    if isinstance(first, bool):
        # MySQL's boolean extraction turns a missing key into false, not NULL.
        return and_(element.as_string().is_not(None), typed.in_(values))
    return typed.in_(values)


def _value_kind(value: Any) -> str:
    # Integers and floats compare with each other; bool is an int subclass but is not a number here.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _ids_condition(ids: tuple[int, ...]) -> ColumnElement[bool]:
    if not ids:
        return false()
    for issue_id in ids:
        if isinstance(issue_id, bool) or not isinstance(issue_id, int):
            raise UnsupportedQuery(reason=f"issue id {issue_id!r} in the ids filter is not an integer")
    # The ids are written into the SQL text rather than bound one parameter each,
    # because filter plugins may return tens of thousands of ids and SQLite accepts
    # at most 32,766 bound parameters per statement.
    return _issues.c.id.in_(bindparam("issue_ids", list(ids), expanding=True, literal_execute=True))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _external_ids(issues: Sequence[Issue]) -> str:
    """Describe the external ids of a batch for an error message, the first five at most."""
    ids = [f"{issue.source}:{issue.external_id}" for issue in issues if issue.external_id]
    if not ids:
        return "(no external id)"
    shown = ", ".join(ids[:5])
    if len(ids) > 5:
        shown += " …"
    return shown


def _order_by(sort: tuple[str, ...]) -> list[Any]:
    return [
        sort_expression(item[1:]).desc() if item.startswith("-") else sort_expression(item).asc()
        for item in sort
    ]


def _sort_values(sort: tuple[str, ...], issue: Issue) -> list[Any]:
    values = []
    for item in sort:
        field = item.lstrip("-")
        if field == "priority":
            values.append(_priority(issue.priority).rank)
        elif field == "resolved_at":
            values.append(issue.resolved_at or _NEVER)
        else:
            values.append(getattr(issue, field))
    return values


def _after(sort: tuple[str, ...], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order `sort`: (a, b, c) > (x, y, z), term by term."""
    alternatives = []
    for position, item in enumerate(sort):
        equal_before = [sort_expression(sort[i].lstrip("-")) == values[i] for i in range(position)]
        expression = sort_expression(item.lstrip("-"))
        beyond = expression < values[position] if item.startswith("-") else expression > values[position]
        alternatives.append(and_(*equal_before, beyond))
    return or_(*alternatives)
