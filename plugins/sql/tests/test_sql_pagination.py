"""Keyset pagination against a model: pages joined equal the list sorted in Python.

SQLite compares text by its UTF-8 bytes, which is code-point order, so Python's
`sorted` is the model. PostgreSQL and MariaDB sort text by their collations, so this
property test runs on SQLite only; the contract suite covers pagination everywhere.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wenti.domain import Issue, Priority, Tenant
from wenti.store import IssueQuery
from wenti_sql import open_store

T0 = datetime(2026, 2, 1, tzinfo=timezone.utc)
NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)

_directory = tempfile.TemporaryDirectory(prefix="wenti-sql-pagination-")
_store = None


def _shared_store():
    # One database for every example; each example works in a tenant of its own.
    global _store
    if _store is None:
        _store = open_store(f"sqlite:///{Path(_directory.name) / 'pages.db'}")
        _store.upgrade()
    return _store


issue_fields = st.fixed_dictionaries(
    {
        "title": st.sampled_from(["打印机", "发票", "VPN", "vpn", "网络", "Äpfel", "😀", "a_b"]),
        "priority": st.sampled_from(list(Priority)),
        "hours": st.integers(min_value=0, max_value=5),
        "resolved_after": st.none() | st.integers(min_value=0, max_value=3),
    }
)
sort_fields = st.lists(
    st.sampled_from(["priority", "created_at", "updated_at", "title", "status", "resolved_at"]),
    min_size=1, max_size=3, unique=True,
)


def _key(issue: Issue, sort: tuple[str, ...]) -> tuple:
    parts = []
    for item in (*sort, "id"):
        field = item.lstrip("-")
        if field == "priority":
            value = Priority(issue.priority).rank
        elif field == "resolved_at":
            value = issue.resolved_at or NEVER
        else:
            value = getattr(issue, field)
        parts.append(value)
    return tuple(parts)


def _model_order(issues: list[Issue], sort: tuple[str, ...]) -> list[int]:
    # Sort by the last key first so that earlier keys win (Python's sort is stable).
    ordered = list(issues)
    keys = (*sort, "id")
    for position in reversed(range(len(keys))):
        descending = keys[position].startswith("-")
        ordered.sort(key=lambda issue: _key(issue, sort)[position], reverse=descending)
    return [issue.id for issue in ordered]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(issue_fields, min_size=0, max_size=30),
    fields=sort_fields,
    descending=st.lists(st.booleans(), min_size=3, max_size=3),
    page_size=st.integers(min_value=1, max_value=7),
)
def test_pages_match_model_order(rows, fields, descending, page_size) -> None:
    store = _shared_store()
    tenant = f"p-{uuid.uuid4().hex[:10]}"
    sort = tuple(f"-{field}" if flag else field for field, flag in zip(fields, descending))
    issues = [
        Issue(
            tenant_id=tenant, queue="it", title=row["title"], reporter="a", status="new" if row["resolved_after"] is None else "resolved",
            priority=row["priority"], created_at=T0 + timedelta(hours=row["hours"]), updated_at=T0 + timedelta(hours=row["hours"]),
            resolved_at=None if row["resolved_after"] is None else T0 + timedelta(days=row["resolved_after"]),
        )
        for row in rows
    ]
    with store.unit_of_work(tenant) as uow:
        uow.tenants.add(Tenant(id=tenant, name=tenant))
        stored = uow.issues.add_many(issues)
        uow.commit()

    seen: list[int] = []
    after = None
    # A correct cursor ends after this many pages; a broken one could loop forever.
    for _page in range(len(issues) + 2):
        with store.unit_of_work(tenant) as uow:
            page = uow.issues.list(IssueQuery(sort=sort, limit=page_size, after=after))
        assert len(page.items) <= page_size
        seen.extend(issue.id for issue in page.items)
        after = page.next_cursor
        if after is None:
            break
    assert after is None, "pagination did not end"

    assert seen == _model_order(stored, sort)
