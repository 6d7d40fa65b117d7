"""SQLite settings, configuration errors, query limits and the plugin's hooks."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from wenti.config import Config
from wenti.domain import Issue, Tenant
from wenti.errors import ConfigError
from wenti.store import IssueQuery
from wenti.testing.helpers import build_app
from wenti_sql import SCHEMES, open_store, register_storage_backends
from wenti_sql.errors import UnsupportedQuery

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)


def _pragma(store, name: str):
    with store.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


@pytest.mark.parametrize(("setting", "expected"), [("NORMAL", 1), ("FULL", 2), ("full", 2)])
def test_sqlite_pragmas_follow_config(tmp_path: Path, setting: str, expected: int) -> None:
    config = Config.default(tmp_path)
    config.storage.sqlite_synchronous = setting
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}", config)
    try:
        assert _pragma(store, "journal_mode") == "wal"
        assert _pragma(store, "synchronous") == expected
        assert _pragma(store, "foreign_keys") == 1
        assert _pragma(store, "busy_timeout") == 30_000
    finally:
        store.close()


def test_sqlite_synchronous_invalid_rejected(tmp_path: Path) -> None:
    config = Config.default(tmp_path)
    config.storage.sqlite_synchronous = "OFF"
    with pytest.raises(ConfigError) as caught:
        open_store(f"sqlite:///{tmp_path / 'p.db'}", config)
    message = str(caught.value)
    assert "sqlite_synchronous" in message
    assert "'OFF'" in message
    assert "FULL" in message


@pytest.mark.parametrize("url", ["oracle://scott@db/orcl", "not a url", "postgresql+asyncpg://u@h/db"])
def test_unknown_url_rejected(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_store(url, Config.default(tmp_path))
    assert "[storage] url" in str(caught.value)
    assert url in str(caught.value)


def test_relative_sqlite_path_lands_in_data_dir(tmp_path: Path) -> None:
    config = Config.default(tmp_path)
    store = open_store("sqlite:///db/wenti.db", config)
    try:
        store.upgrade()
    finally:
        store.close()
    assert (tmp_path / "db" / "wenti.db").is_file()


def test_empty_url_means_wenti_db_in_data_dir(tmp_path: Path) -> None:
    config = Config.default(tmp_path)
    store = open_store("", config)
    try:
        assert store.engine.url.database == str((tmp_path / "wenti.db").resolve())
    finally:
        store.close()


def test_driver_chosen_for_bare_schemes(tmp_path: Path) -> None:
    postgres = open_store("postgresql://postgres@127.0.0.1:5432/test")
    mariadb = open_store("mariadb://root@127.0.0.1:3306/test")
    try:
        assert postgres.engine.url.drivername == "postgresql+psycopg"
        assert mariadb.engine.url.drivername == "mariadb+pymysql"
        assert mariadb.engine.url.query["charset"] == "utf8mb4"
    finally:
        postgres.close()
        mariadb.close()


def test_in_memory_sqlite_shares_one_database() -> None:
    store = open_store("sqlite://")
    try:
        store.upgrade()
        with store.unit_of_work("acme") as uow:
            uow.tenants.add(Tenant(id="acme", name="Acme"))
            uow.commit()
        with store.unit_of_work("acme") as uow:
            assert uow.tenants.get("acme").name == "Acme"
    finally:
        store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    store.upgrade()
    with store.unit_of_work("acme") as uow:
        uow.tenants.add(Tenant(id="acme", name="Acme"))
        uow.commit()
    yield store
    store.close()


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        (IssueQuery(status_category=("open",)), "status_category"),
        (IssueQuery(extra={"custom.device": "HP"}), "custom.device"),
        (IssueQuery(limit=0), "limit 0"),
        (IssueQuery(limit=1001), "limit 1001"),
        (IssueQuery(sort=("-secret",)), "'-secret'"),
        (IssueQuery(sort=("--title",)), "'--title'"),
        (IssueQuery(priority=("urgent",)), "'urgent'"),
    ],
)
def test_unsupported_query_named_in_error(sqlite_store, query: IssueQuery, fragment: str) -> None:
    with sqlite_store.unit_of_work("acme") as uow, pytest.raises(UnsupportedQuery) as caught:
        uow.issues.list(query)
    assert fragment in str(caught.value)


def test_count_by_unknown_field_rejected(sqlite_store) -> None:
    with sqlite_store.unit_of_work("acme") as uow, pytest.raises(UnsupportedQuery, match="'title'"):
        uow.issues.count_by(["title"], IssueQuery())


def test_json_stores_chinese_unescaped(sqlite_store) -> None:
    with sqlite_store.unit_of_work("acme") as uow:
        uow.issues.add(Issue(tenant_id="acme", queue="it", title="t", reporter="a", status="new", tags=["打印机"], created_at=NOW))
        uow.commit()
        raw = uow.sql_connection().execute(text("SELECT tags FROM wenti_issues")).scalar_one()
    assert raw == '["打印机"]'


def test_readonly_unit_of_work_reads_beside_a_writer(sqlite_store) -> None:
    writer_started = threading.Event()
    reader_done = threading.Event()

    def writer() -> None:
        with sqlite_store.unit_of_work("acme") as uow:
            uow.issues.add(Issue(tenant_id="acme", queue="it", title="w", reporter="a", status="new", created_at=NOW))
            writer_started.set()
            reader_done.wait(timeout=10)
            uow.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    assert writer_started.wait(timeout=10)
    with sqlite_store.unit_of_work("acme", readonly=True) as uow:
        # The writer holds the write lock and has not committed, so nothing is visible yet.
        assert uow.issues.count(IssueQuery()) == 0
    reader_done.set()
    thread.join(timeout=10)

    with sqlite_store.unit_of_work("acme") as uow:
        assert uow.issues.count(IssueQuery()) == 1


def test_backend_record_lists_schemes() -> None:
    [backend] = register_storage_backends()
    assert backend.name == "sql"
    assert backend.schemes == SCHEMES
    assert "postgresql+psycopg" in backend.schemes
    assert "mariadb+pymysql" in backend.schemes


def test_app_migrates_plugin_tables_at_startup(tmp_path: Path, notes_plugin) -> None:
    app = build_app(tmp_path / "instance", enabled_plugins=["sql"], plugins=[(notes_plugin, "notes")])
    try:
        tables = set(inspect(app.store.engine).get_table_names())
        assert "sample_notes" in tables
        assert "wenti_issues" in tables
        ctx = app.context("default", "agent")
        issue = app.issues.create(ctx, title="打印机卡纸")
        assert app.issues.get(ctx, issue.id).title == "打印机卡纸"
    finally:
        app.close()


def test_errors_translated_into_chinese() -> None:
    from wenti.i18n import core, use_locale
    from wenti_sql.errors import DuplicateKey

    error = DuplicateKey(what="queue", value="it", tenant="acme")
    with use_locale("zh_CN"):
        chinese = error.translated(core.gettext)
    with use_locale("en"):
        english = error.translated(core.gettext)
    assert chinese == "租户 acme 中已存在队列 it。"
    assert english == "queue it already exists in tenant acme."


def test_chinese_catalog_translates_every_message() -> None:
    from babel.messages.pofile import read_po

    import wenti_sql.errors as errors

    locale_dir = Path(errors.__file__).parent / "locale"
    with (locale_dir / "zh_CN" / "LC_MESSAGES" / "wenti_sql.po").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    classes = (errors.DuplicateKey, errors.RowNotFound, errors.UnsupportedQuery, errors.WrongTenant, errors.UnknownRevision)
    message_ids = [cls.message_id for cls in classes]
    for message_id in [*message_ids, *errors.ROW_KINDS]:
        message = catalog.get(message_id)
        assert message is not None, message_id
        assert message.string, message_id


def test_add_many_without_returning_support(sqlite_store, monkeypatch) -> None:
    # MySQL lacks INSERT ... RETURNING; the row-by-row path must give the same ids.
    monkeypatch.setattr(sqlite_store.engine.dialect, "insert_executemany_returning_sort_by_parameter_order", False)
    issues = [Issue(tenant_id="acme", queue="it", title=f"#{n}", reporter="a", status="new", created_at=NOW) for n in range(3)]
    with sqlite_store.unit_of_work("acme") as uow:
        stored = uow.issues.add_many(issues)
        uow.commit()
    with sqlite_store.unit_of_work("acme") as uow:
        titles = [uow.issues.get(issue.id).title for issue in stored]
    assert titles == ["#0", "#1", "#2"]
    assert len({issue.id for issue in stored}) == 3


def _query_plan(store, run) -> str:
    """Run `run(uow)` and return SQLite's plan for the last SELECT it sent."""
    from sqlalchemy import event

    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        with store.unit_of_work("acme") as uow:
            run(uow)
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    statement, parameters = captured[-1]
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    ("name", "run", "index"),
    [
        ("open issues of one assignee by priority",
         lambda uow: uow.issues.list(IssueQuery(assignee=("bob",), status=("new", "in_progress"), sort=("priority",))),
         "ix_wenti_issues_tenant_id_assignee_status_priority_rank"),
        ("counts by category and status",
         lambda uow: uow.issues.count_by(["category", "status"], IssueQuery()),
         "SEARCH wenti_issue_counts"),
        ("counts by category and status of one source",
         lambda uow: uow.issues.count_by(["category", "status"], IssueQuery(source="web")),
         "ix_wenti_issues_tenant_id_category_status"),
        ("issues created in one month",
         lambda uow: uow.issues.list(IssueQuery(created_from=NOW, created_to=NOW.replace(month=6))),
         "ix_wenti_issues_tenant_id_created_at"),
        ("one queue by status",
         lambda uow: uow.issues.count(IssueQuery(queue=("it",), status=("new",))),
         "SEARCH wenti_issue_counts"),
        ("one queue by status of one source",
         lambda uow: uow.issues.count(IssueQuery(queue=("it",), status=("new",), source="web")),
         "ix_wenti_issues_tenant_id_queue_status"),
    ],
)
def test_list_queries_use_their_index(sqlite_store, name: str, run, index: str) -> None:
    plan = _query_plan(sqlite_store, run)
    assert index in plan, f"{name}: {plan}"


def test_startup_migrates_when_store_lacks_schemas(tmp_path: Path, notes_plugin) -> None:
    from types import SimpleNamespace

    from wenti_sql import startup

    store = open_store(f"sqlite:///{tmp_path / 'late.db'}")
    try:
        store.upgrade()
        assert "sample_notes" not in inspect(store.engine).get_table_names()
        hooks = SimpleNamespace(sql_schemas=notes_plugin.register_sql_schemas)
        startup(SimpleNamespace(store=store, hooks=hooks))
        assert "sample_notes" in inspect(store.engine).get_table_names()
        assert store.has_schema_source
    finally:
        store.close()


def test_ids_filter_beyond_sqlite_parameter_limit(sqlite_store) -> None:
    with sqlite_store.unit_of_work("acme") as uow:
        stored = uow.issues.add_many([Issue(tenant_id="acme", queue="it", title=f"#{n}", reporter="a", status="new", created_at=NOW) for n in range(3)])
        uow.commit()
    wanted = (stored[0].id, stored[2].id, *range(10_000_000, 10_040_000))
    with sqlite_store.unit_of_work("acme") as uow:
        count = uow.issues.count(IssueQuery(ids=wanted))
        page = uow.issues.list(IssueQuery(ids=wanted, sort=("id",)))
        with pytest.raises(UnsupportedQuery, match="'7'"):
            uow.issues.count(IssueQuery(ids=(1, "7")))
    assert count == 2
    assert [issue.id for issue in page.items] == [stored[0].id, stored[2].id]
