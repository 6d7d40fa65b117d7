"""Issue counts read from `wenti_issue_counts` instead of scanning `wenti_issues`.

The table contains one row per (tenant, queue, status, category, priority) with the
number of issues in it. `add_inserted` counts the issues the repository inserts, in
the same transaction, and the triggers that migration `0002_issue_counts` creates
count deletes and updates. A count can be read from it when it groups and
filters only on those four fields. `answerable` decides that, and the issue
repository runs a GROUP BY over `wenti_issues` for every other query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import Connection, ColumnElement, func, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from wenti.store import IssueQuery
from wenti_sql import tables

# The category stored for issues without one. The service layer stores an empty
# category as NULL, so '' reaches wenti_issues only through writes below it.
# NOTE: an issue stored with the category '' that way is counted under None.
NO_CATEGORY = ""

COUNTED_FIELDS = ("queue", "status", "category", "priority")

# IssueQuery fields that choose the page of a list and do not change a count.
_PAGING_FIELDS = ("sort", "limit", "after")

_counts = tables.issue_counts
_DEFAULT_QUERY = IssueQuery()


def answerable(fields: Sequence[str], query: IssueQuery) -> bool:
    """Return True when the counts table can compute a count grouped by `fields` and filtered by `query`."""
    if any(field not in COUNTED_FIELDS for field in fields):
        return False
    # An issue with the category '' would be counted under NULL, so such a filter
    # reads the issues themselves.
    if NO_CATEGORY in query.category:
        return False
    # Every other field must keep its default, so a filter added to IssueQuery
    # later reads the issues until this module learns it.
    for attribute in attrs.fields(IssueQuery):
        name = attribute.name
        if name in COUNTED_FIELDS or name in _PAGING_FIELDS:
            continue
        if getattr(query, name) != getattr(_DEFAULT_QUERY, name):
            return False
    return True


def count(connection: Connection, tenant_id: str, query: IssueQuery) -> int:
    """Count the issues of `tenant_id` that match the queue, status, category and priority filters of `query`.

    `query.priority` contains stored priority values (`Priority.value`), checked by the caller.
    """
    statement = select(func.coalesce(func.sum(_counts.c.n), 0)).where(*_conditions(tenant_id, query))
    return int(connection.execute(statement).scalar_one())


def count_by(connection: Connection, tenant_id: str, fields: Sequence[str], query: IssueQuery) -> dict[tuple[Any, ...], int]:
    """Count matching issues per combination of `fields`, as `SqlIssueRepository.count_by` returns them."""
    columns = [_counts.c[field] for field in fields]
    total = func.sum(_counts.c.n)
    statement = select(*columns, total).where(*_conditions(tenant_id, query)).group_by(*columns).having(total > 0)

    category_position = fields.index("category") if "category" in fields else None
    result: dict[tuple[Any, ...], int] = {}
    for row in connection.execute(statement):
        key = list(row[:-1])
        if category_position is not None and key[category_position] == NO_CATEGORY:
            key[category_position] = None
        result[tuple(key)] = int(row[-1])
    return result


def _conditions(tenant_id: str, query: IssueQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_counts.c.tenant_id == tenant_id]
    for field in ("queue", "status", "category"):
        values = getattr(query, field)
        if values:
            conditions.append(_counts.c[field].in_(values))
    if query.priority:
        # The issue repository has turned the priorities into their stored values.
        conditions.append(_counts.c.priority.in_(query.priority))
    return conditions


_KEY_COLUMNS = ("tenant_id", "queue", "status", "category", "priority")
_UPSERT_COLUMNS = (*_KEY_COLUMNS, "n")
_upserts: dict[str, tuple[str, list[str]]] = {}


def add_inserted(connection: Connection, keys: Sequence[tuple[str, str, str, str | None, str]]) -> None:
    """Count newly inserted issues, given as (tenant_id, queue, status, category, priority) each.

    Sends one upsert per distinct combination, so a batch of 500 imported issues
    costs a few statements instead of a trigger run per row.
    """
    deltas = Counter(
        (tenant_id, queue, status, NO_CATEGORY if category is None else category, priority)
        for tenant_id, queue, status, category, priority in keys
    )
    if not deltas:
        return
    sql, names = _upsert(connection.dialect)
    rows = [(*key, n) for key, n in deltas.items()]
    if names:
        connection.exec_driver_sql(sql, [dict(zip(names, row)) for row in rows])
    else:
        connection.exec_driver_sql(sql, rows)


def _upsert(dialect: Dialect) -> tuple[str, list[str]]:
    """Return the dialect's upsert that adds `n` to a count row, and its parameter names if they are named."""
    key = f"{dialect.name}:{dialect.driver}"
    cached = _upserts.get(key)
    if cached is not None:
        return cached

    if dialect.name == "sqlite":
        statement = sqlite.insert(_counts)
        statement = statement.on_conflict_do_update(index_elements=list(_KEY_COLUMNS), set_={"n": _counts.c.n + statement.excluded.n})
    elif dialect.name == "postgresql":
        statement = postgresql.insert(_counts)
        statement = statement.on_conflict_do_update(index_elements=list(_KEY_COLUMNS), set_={"n": _counts.c.n + statement.excluded.n})
    elif dialect.name in ("mysql", "mariadb"):
        statement = mysql.insert(_counts)
        statement = statement.on_duplicate_key_update(n=_counts.c.n + statement.inserted.n)
    else:
        raise NotImplementedError(f"no upsert for the {dialect.name} dialect; wenti-sql supports SQLite, PostgreSQL and MariaDB")

    compiled = statement.compile(dialect=dialect, column_keys=list(_UPSERT_COLUMNS))
    order = list(compiled.positiontup or [])
    if compiled.positional and order != list(_UPSERT_COLUMNS):
        raise RuntimeError(f"the counts upsert binds {order}, expected {list(_UPSERT_COLUMNS)}")
    cached = _upserts[key] = (compiled.string, [] if compiled.positional else list(_UPSERT_COLUMNS))
    return cached
