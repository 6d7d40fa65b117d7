"""The issue-count table on SQLite, PostgreSQL and MariaDB.

Every check compares the table, and `count` / `count_by` read from it, with a
GROUP BY over `wenti_issues` in the same database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import func, inspect, select, text, update

from wenti.config import Config
from wenti.domain import Issue, Priority, Tenant
from wenti.services.importing import ImportedIssue
from wenti.store import IssueQuery
from wenti_sql import open_store, tables
from wenti_sql.counts import NO_CATEGORY
from wenti_sql.issues import ISSUE_COLUMNS
from wenti_sql.rawinsert import RawInsert
from wenti_sql.migrations import applied_revisions, downgrade, schema_differences, upgrade

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
KEY_FIELDS = ("queue", "status", "category", "priority")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), pytest.param("mariadb", marks=pytest.mark.mariadb)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, fresh_database) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'counts.db'}"
    return fresh_database(request.param)


@pytest.fixture
def store(database_url: str) -> Iterator[Any]:
    store = open_store(database_url)
    store.upgrade()
    for tenant_id in ("acme", "globex"):
        with store.unit_of_work(tenant_id) as uow:
            uow.tenants.add(Tenant(id=tenant_id, name=tenant_id))
            uow.commit()
    try:
        yield store
    finally:
        store.close()


def _issue(tenant_id: str = "acme", **fields: Any) -> Issue:
    values: dict[str, Any] = {"tenant_id": tenant_id, "queue": "it", "title": "打印机卡纸", "reporter": "alice", "status": "new", "created_at": NOW}
    values.update(fields)
    return Issue(**values)


def _sample_issues(tenant_id: str = "acme") -> list[Issue]:
    return [
        _issue(tenant_id, category="硬件"),
        _issue(tenant_id, category="硬件", status="in_progress", priority="high"),
        _issue(tenant_id, category="网络"),
        _issue(tenant_id, category=None),
        _issue(tenant_id, category=None, queue="hr", priority="low"),
    ]


def _add(store, issues: list[Issue], tenant_id: str = "acme") -> list[Issue]:
    with store.unit_of_work(tenant_id) as uow:
        stored = uow.issues.add_many(issues)
        uow.commit()
    return stored


def _add_without_counts(store, issues: list[Issue], tenant_id: str = "acme") -> None:
    """Insert issue rows the way a store without the counts table did, for migration tests."""
    with store.unit_of_work(tenant_id) as uow:
        rows = [uow.issues._values(issue) for issue in issues]
        RawInsert(tables.issues, ISSUE_COLUMNS).insert_many(uow.sql_connection(), rows)
        uow.commit()


def _grouped(connection, tenant_id: str) -> dict[tuple[Any, ...], int]:
    """Count the tenant's issues with a GROUP BY over `wenti_issues`."""
    issues = tables.issues
    columns = [issues.c[field] for field in KEY_FIELDS]
    statement = select(*columns, func.count()).where(issues.c.tenant_id == tenant_id).group_by(*columns)
    return {tuple(row[:-1]): int(row[-1]) for row in connection.execute(statement)}


def _table(connection, tenant_id: str) -> dict[tuple[Any, ...], int]:
    """Read the tenant's rows of `wenti_issue_counts` that count at least one issue."""
    counts = tables.issue_counts
    columns = [counts.c[field] for field in KEY_FIELDS]
    statement = select(*columns, counts.c.n).where(counts.c.tenant_id == tenant_id, counts.c.n != 0)
    result = {}
    for queue, status, category, priority, n in connection.execute(statement):
        result[(queue, status, None if category == NO_CATEGORY else category, priority)] = int(n)
    return result


def _assert_exact(store, tenant_id: str = "acme") -> dict[tuple[Any, ...], int]:
    with store.engine.connect() as connection:
        expected = _grouped(connection, tenant_id)
        stored = _table(connection, tenant_id)
    assert stored == expected
    with store.unit_of_work(tenant_id) as uow:
        by_all = uow.issues.count_by(list(KEY_FIELDS), IssueQuery())
        total = uow.issues.count(IssueQuery())
    assert by_all == expected
    assert total == sum(expected.values())
    return expected


def test_counts_follow_add_many(store) -> None:
    _add(store, _sample_issues())

    expected = _assert_exact(store)

    assert expected[("it", "new", "硬件", "normal")] == 1
    assert expected[("it", "new", None, "normal")] == 1
    assert sum(expected.values()) == 5


@pytest.mark.parametrize(
    "change",
    [{"category": "网络"}, {"category": None}, {"status": "resolved"}, {"queue": "hr"}, {"priority": Priority.CRITICAL}, {"title": "只改标题"}],
    ids=["category", "category-to-null", "status", "queue", "priority", "title-only"],
)
def test_counts_follow_update(store, change: dict[str, Any]) -> None:
    stored = _add(store, _sample_issues())
    issue = stored[0]

    with store.unit_of_work("acme") as uow:
        uow.issues.update(attrs.evolve(issue, version=issue.version + 1, **change), expected_version=issue.version)
        uow.commit()

    expected = _assert_exact(store)
    assert sum(expected.values()) == 5


def test_counts_follow_null_category_set(store) -> None:
    stored = _add(store, [_issue(category=None)])
    issue = stored[0]

    with store.unit_of_work("acme") as uow:
        uow.issues.update(attrs.evolve(issue, category="硬件", version=issue.version + 1), expected_version=issue.version)
        uow.commit()

    assert _assert_exact(store) == {("it", "new", "硬件", "normal"): 1}


def test_counts_follow_delete(store) -> None:
    stored = _add(store, _sample_issues())

    with store.unit_of_work("acme") as uow:
        uow.sql_connection().execute(tables.issues.delete().where(tables.issues.c.id.in_([stored[0].id, stored[3].id])))
        uow.commit()

    expected = _assert_exact(store)
    assert sum(expected.values()) == 3
    assert ("it", "new", "硬件", "normal") not in expected


def test_rolled_back_write_not_counted(store) -> None:
    stored = _add(store, _sample_issues())
    before = _assert_exact(store)

    with store.unit_of_work("acme") as uow:
        uow.issues.add_many([_issue(category="软件"), _issue(category=None)])
        uow.issues.update(attrs.evolve(stored[0], status="closed", version=stored[0].version + 1), expected_version=stored[0].version)
        inside = uow.issues.count_by(["category"], IssueQuery())
        uow.rollback()

    assert inside[("软件",)] == 1
    assert _assert_exact(store) == before


def test_null_category_read_as_none(store) -> None:
    _add(store, _sample_issues())

    with store.unit_of_work("acme") as uow:
        by_category = uow.issues.count_by(["category"], IssueQuery())
        uncategorised = uow.issues.count_by(["queue", "category"], IssueQuery(queue=("hr",)))

    assert by_category == {("硬件",): 2, ("网络",): 1, (None,): 2}
    assert uncategorised == {("hr", None): 1}


def test_tenants_kept_apart(store) -> None:
    _add(store, _sample_issues("acme"), "acme")
    _add(store, _sample_issues("globex")[:2], "globex")

    acme = _assert_exact(store, "acme")
    globex = _assert_exact(store, "globex")

    assert sum(acme.values()) == 5
    assert sum(globex.values()) == 2


@pytest.mark.parametrize(
    ("fields", "query"),
    [
        (("category", "status"), IssueQuery()),
        (("status",), IssueQuery(queue=("it",))),
        (("priority",), IssueQuery(priority=("high", Priority.NORMAL))),
        (("queue", "category"), IssueQuery(category=("硬件",), status=("new", "in_progress"))),
        (("status",), IssueQuery(sort=("id",), limit=5)),
    ],
)
def test_count_by_reads_counts_table(store, fields: tuple[str, ...], query: IssueQuery) -> None:
    _add(store, _sample_issues())
    with store.unit_of_work("acme") as uow:
        before = uow.issues.count_by(fields, query)
        total_before = uow.issues.count(query)

    # Inflating every row of the table shows whether the count came from it.
    with store.engine.begin() as connection:
        connection.execute(update(tables.issue_counts).values(n=tables.issue_counts.c.n * 10))

    with store.unit_of_work("acme") as uow:
        after = uow.issues.count_by(fields, query)
        total_after = uow.issues.count(query)
    assert before
    assert after == {key: n * 10 for key, n in before.items()}
    assert total_after == total_before * 10


@pytest.mark.parametrize(
    ("fields", "query"),
    [
        (("assignee",), IssueQuery(unassigned=True)),
        (("status",), IssueQuery(reporter="alice")),
        (("status",), IssueQuery(text="打印机")),
        (("status",), IssueQuery(created_from=NOW)),
        (("category",), IssueQuery(category=("",))),
    ],
)
def test_count_by_falls_back_to_issues(store, fields: tuple[str, ...], query: IssueQuery) -> None:
    _add(store, _sample_issues())
    with store.unit_of_work("acme") as uow:
        before = uow.issues.count_by(fields, query)
        total_before = uow.issues.count(query)

    with store.engine.begin() as connection:
        connection.execute(update(tables.issue_counts).values(n=tables.issue_counts.c.n * 10))

    with store.unit_of_work("acme") as uow:
        assert uow.issues.count_by(fields, query) == before
        assert uow.issues.count(query) == total_before


def test_count_by_other_field_falls_back(store) -> None:
    _add(store, _sample_issues())

    with store.engine.begin() as connection:
        connection.execute(update(tables.issue_counts).values(n=tables.issue_counts.c.n * 10))

    with store.unit_of_work("acme") as uow:
        assert uow.issues.count_by(["assignee"], IssueQuery()) == {(None,): 5}
        assert uow.issues.count_by(["status", "source"], IssueQuery()) == {("new", "web"): 4, ("in_progress", "web"): 1}


def test_counts_follow_service_commands(database_url: str, make_wenti_app, tmp_path: Path) -> None:
    config = Config.default(tmp_path / "instance")
    config.storage.url = database_url
    app = make_wenti_app(config=config, enabled_plugins=["sql"])
    agent = app.context("default", "agent")

    first = app.issues.create(agent, title="打印机卡纸", category="硬件", priority="high", reporter="reporter")
    second = app.issues.create(agent, title="无法上网", reporter="reporter")
    app.issues.update(agent, second.id, second.version, category="网络", priority="low")
    started = app.issues.transition(agent, first.id, first.version, "start")
    app.issues.transition(agent, started.id, started.version, "resolve", fields={"resolution": "更换硒鼓"})
    result = app.issues.import_batch(agent, [ImportedIssue(title=f"导入 {n}", category="硬件" if n % 2 else None, external_id=str(n)) for n in range(7)])
    assert len(result.imported) == 7

    by_category_status = app.issues.count_by(agent, ("category", "status"), IssueQuery())
    with app.uow("default") as uow:
        connection = uow.sql_connection()
        expected = _grouped(connection, "default")
        stored = _table(connection, "default")
    assert stored == expected
    assert by_category_status == {("硬件", "resolved"): 1, ("网络", "new"): 1, ("硬件", "new"): 3, (None, "new"): 4}
    assert app.issues.count(agent, IssueQuery(status=("new",))) == 8


def test_migration_backfills_and_round_trips(database_url: str) -> None:
    store = open_store(database_url)
    try:
        upgrade(store.engine, [], target="0001_core")
        assert "wenti_issue_counts" not in inspect(store.engine).get_table_names()
        for tenant_id in ("acme", "globex"):
            with store.unit_of_work(tenant_id) as uow:
                uow.tenants.add(Tenant(id=tenant_id, name=tenant_id))
                uow.commit()
        _add_without_counts(store, _sample_issues("acme"), "acme")
        _add_without_counts(store, _sample_issues("globex"), "globex")

        store.upgrade()
        assert "0002_issue_counts" in applied_revisions(store.engine)
        assert schema_differences(store.engine) == []
        _assert_exact(store, "acme")
        _assert_exact(store, "globex")

        downgrade(store.engine, [], "0001_core")
        assert "wenti_issue_counts" not in inspect(store.engine).get_table_names()
        # Without the table, a trigger left behind would make this insert fail.
        _add_without_counts(store, [_issue(category="软件")])
        with store.unit_of_work("acme") as uow:
            uow.sql_connection().execute(update(tables.issues).where(tables.issues.c.category == "软件").values(status="in_progress"))
            uow.sql_connection().execute(update(tables.issues).where(tables.issues.c.category == "软件").values(status="new"))
            uow.commit()

        store.upgrade()
        expected = _assert_exact(store, "acme")
        assert expected[("it", "new", "软件", "normal")] == 1
        _add(store, [_issue(category="软件")])
        assert _assert_exact(store, "acme")[("it", "new", "软件", "normal")] == 2
    finally:
        store.close()


def test_zero_rows_stay_and_are_skipped(store) -> None:
    stored = _add(store, [_issue(category="硬件")])

    with store.unit_of_work("acme") as uow:
        uow.issues.update(attrs.evolve(stored[0], category="网络", version=stored[0].version + 1), expected_version=stored[0].version)
        uow.commit()

    with store.engine.connect() as connection:
        zero = connection.execute(
            text("SELECT n FROM wenti_issue_counts WHERE tenant_id = 'acme' AND category = '硬件'")
        ).scalar_one()
    assert zero == 0
    with store.unit_of_work("acme") as uow:
        assert uow.issues.count_by(["category"], IssueQuery()) == {("网络",): 1}
