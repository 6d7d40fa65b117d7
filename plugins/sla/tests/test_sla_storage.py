"""SLA tables: the migration matches the metadata, and clock rows round-trip on each database."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import create_engine, select, text

from wenti_sla import MIGRATIONS
from wenti_sla.engine import ClockState, IssueClocks
from wenti_sla.service import _store_clocks
from wenti_sla.tables import metadata, sla_clocks


def run_migration(connection) -> None:
    script = next(Path(MIGRATIONS).glob("0001_*.py"))
    spec = importlib.util.spec_from_file_location("sla_migration_0001", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = MigrationContext.configure(connection)
    with Operations.context(context):
        module.upgrade()


def clock(metric: str, started: float, **overrides) -> ClockState:
    values = dict(
        metric=metric, target=3600.0, status="running", elapsed=600.0, started_at=started, due_at=started + 3000,
        stopped_at=None, breached_at=None, warnings=((0.75, started + 2100),), estimated=False,
    )
    values.update(overrides)
    return ClockState(**values)


def store_and_read(engine):
    results = {
        1: IssueClocks("standard", "china", {"first_response": clock("first_response", 1000.0), "resolution": clock("resolution", 1000.0)}),
        2: None,
    }
    with engine.begin() as connection:
        _store_clocks(connection, "t1", results, 1500.0)
    with engine.begin() as connection:
        connection.execute(sla_clocks.update().values(warned=[0.75], breach_sent=True).where(sla_clocks.c.metric == "resolution"))
    # Storing again keeps the notices of a clock that did not restart and drops the notices of a restarted one.
    results[1] = IssueClocks("standard", "china", {"first_response": clock("first_response", 1000.0), "resolution": clock("resolution", 1000.0)})
    with engine.begin() as connection:
        _store_clocks(connection, "t1", results, 1600.0)
        kept = {row.metric: row for row in connection.execute(select(sla_clocks))}
    results[1] = IssueClocks("standard", "china", {"resolution": clock("resolution", 2000.0)})
    with engine.begin() as connection:
        _store_clocks(connection, "t1", results, 1700.0)
        restarted = {row.metric: row for row in connection.execute(select(sla_clocks))}
    return kept, restarted


def check_rows(kept, restarted) -> None:
    assert set(kept) == {"first_response", "resolution"}
    assert kept["resolution"].warned == [0.75]
    assert kept["resolution"].breach_sent is True
    assert kept["first_response"].next_warning_at == pytest.approx(3100.0)
    assert kept["first_response"].computed_at == pytest.approx(1600.0)
    assert set(restarted) == {"resolution"}
    assert restarted["resolution"].warned == []
    assert restarted["resolution"].breach_sent is False


def test_migration_matches_metadata(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'sla.db'}")
    with engine.begin() as connection:
        run_migration(connection)
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)

    assert differences == []


def test_clock_rows_round_trip_sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'sla.db'}")
    with engine.begin() as connection:
        run_migration(connection)

    check_rows(*store_and_read(engine))


@pytest.mark.postgres
def test_clock_rows_round_trip_postgres():
    schema = f"sla_test_{os.getpid()}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}")
    try:
        with engine.begin() as connection:
            run_migration(connection)
            differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
        rows = store_and_read(engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

    assert differences == []
    check_rows(*rows)


@pytest.mark.mariadb
def test_clock_rows_round_trip_mariadb():
    database = f"sla_test_{os.getpid()}"
    admin = create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    with admin.begin() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        connection.execute(text(f"CREATE DATABASE {database} CHARACTER SET utf8mb4"))
    engine = create_engine(f"mysql+pymysql://root@127.0.0.1:3306/{database}")
    try:
        with engine.begin() as connection:
            run_migration(connection)
        rows = store_and_read(engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {database}"))
        admin.dispose()

    check_rows(*rows)
