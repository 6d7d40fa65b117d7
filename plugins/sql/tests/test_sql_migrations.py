"""Migrations on SQLite, PostgreSQL and MariaDB, including a plugin's own branch."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)

from wenti.records import SqlSchema
from wenti_sql import open_store
from wenti_sql.migrations import VERSION_TABLE, applied_revisions, schema_differences
from wenti_sql.tables import metadata as core_metadata

SAMPLE_MIGRATIONS = Path(__file__).parent / "sample_migrations"

sample_metadata = MetaData()
sample_notes = Table(
    "sample_notes",
    sample_metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("issue_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("body", Text(), nullable=False),
    Index("ix_sample_notes_tenant_id_issue_id", "tenant_id", "issue_id"),
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_bin",
    mariadb_charset="utf8mb4",
    mariadb_collate="utf8mb4_bin",
)
SAMPLE_SCHEMA = SqlSchema(name="sample", metadata=sample_metadata, migrations=str(SAMPLE_MIGRATIONS), branch="sample", plugin="sample")

CORE_TABLES = set(core_metadata.tables)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), pytest.param("mariadb", marks=pytest.mark.mariadb)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, fresh_database) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return fresh_database(request.param)


def _tables(url: str) -> set[str]:
    store = open_store(url)
    try:
        return set(inspect(store.engine).get_table_names())
    finally:
        store.close()


def _heads(store) -> set[str]:
    return applied_revisions(store.engine, store.schemas())


def test_migrations_round_trip_without_drift(database_url: str) -> None:
    store = open_store(database_url, schemas=lambda: [SAMPLE_SCHEMA])
    try:
        store.upgrade()
        assert schema_differences(store.engine, [SAMPLE_SCHEMA]) == []
        assert _heads(store) == {"0001_core", "0002_issue_counts", "0001_sample"}

        store.downgrade("sample@base")
        tables = set(inspect(store.engine).get_table_names())
        assert "sample_notes" not in tables
        assert CORE_TABLES <= tables
        assert _heads(store) == {"0001_core", "0002_issue_counts"}

        store.downgrade("base")
        assert set(inspect(store.engine).get_table_names()) - {VERSION_TABLE} == set()
        assert _heads(store) == set()

        store.upgrade()
        assert schema_differences(store.engine, [SAMPLE_SCHEMA]) == []
        assert CORE_TABLES | {"sample_notes", VERSION_TABLE} == set(inspect(store.engine).get_table_names())
        # A second upgrade finds nothing to do.
        store.upgrade()
        assert _heads(store) == {"0001_core", "0002_issue_counts", "0001_sample"}
    finally:
        store.close()


def test_core_upgrade_alone_has_no_drift(database_url: str) -> None:
    store = open_store(database_url)
    try:
        store.upgrade()
        assert schema_differences(store.engine) == []
        assert _heads(store) == {"0001_core", "0002_issue_counts"}
    finally:
        store.close()


def test_missing_migration_folder_rejected(tmp_path: Path) -> None:
    broken = SqlSchema(name="broken", metadata=MetaData(), migrations=str(tmp_path / "nowhere"), branch="broken", plugin="broken")
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}", schemas=lambda: [broken])
    try:
        with pytest.raises(ValueError, match="nowhere"):
            store.upgrade()
    finally:
        store.close()


def test_detects_drift_from_metadata(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    store = open_store(url)
    try:
        store.upgrade()
        with store.engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_wenti_issues_tenant_id_created_at"))
        differences = schema_differences(store.engine)
    finally:
        store.close()
    assert len(differences) == 1
    assert differences[0][0] == "add_index"


def test_plugin_table_written_in_the_store_transaction(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from wenti.domain import Issue, Tenant

    store = open_store(f"sqlite:///{tmp_path / 'uow.db'}", schemas=lambda: [SAMPLE_SCHEMA])
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    try:
        store.upgrade()
        with store.unit_of_work("acme") as uow:
            uow.tenants.add(Tenant(id="acme", name="Acme"))
            uow.commit()

        for commit in (False, True):
            with store.unit_of_work("acme") as uow:
                issue = uow.issues.add(Issue(tenant_id="acme", queue="it", title="x", reporter="a", status="new", created_at=now))
                uow.sql_connection().execute(sample_notes.insert().values(tenant_id="acme", issue_id=issue.id, body="备注"))
                if commit:
                    uow.commit()

        with store.engine.connect() as connection:
            notes = connection.execute(select(sample_notes.c.body, sample_notes.c.issue_id)).all()
            issue_ids = connection.execute(text("SELECT id FROM wenti_issues")).scalars().all()
    finally:
        store.close()
    assert [body for body, _ in notes] == ["备注"]
    assert [issue_id for _, issue_id in notes] == issue_ids


def test_sql_connection_outside_unit_of_work_rejected(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        uow = store.unit_of_work("acme")
        with pytest.raises(RuntimeError, match="not open"):
            uow.sql_connection()
    finally:
        store.close()




def test_revision_of_unloaded_plugin_named(tmp_path: Path) -> None:
    from wenti_sql.errors import UnknownRevision

    url = f"sqlite:///{tmp_path / 'unloaded.db'}"
    with_plugin = open_store(url, schemas=lambda: [SAMPLE_SCHEMA])
    with_plugin.upgrade()
    with_plugin.close()

    without_plugin = open_store(url)
    try:
        with pytest.raises(UnknownRevision) as caught:
            without_plugin.upgrade()
    finally:
        without_plugin.close()
    assert "0001_sample" in str(caught.value)
    assert "Enable the plugin" in str(caught.value)
