"""`RawInsert` stores exactly what SQLAlchemy's own INSERT stores, on every backend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from wenti.domain import Tenant
from wenti_sql import open_store, tables
from wenti_sql.issues import ISSUE_COLUMNS
from wenti_sql.rawinsert import RawInsert, column_converter, sqlite_datetime

SHANGHAI = ZoneInfo("Asia/Shanghai")

DATETIMES = [
    datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc),
    datetime(2026, 3, 1, 8, 30, 0, 120, tzinfo=timezone.utc),
    datetime(2026, 3, 1, 16, 30, 5, 999999, tzinfo=SHANGHAI),
    datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=-5))),
    datetime(999, 1, 2, tzinfo=timezone.utc),
]

JSON_VALUES = [None, [], {}, ["网络", "打印机"], {"设备": "HP 1020", "floor": 3, "cost": 12.5, "urgent": True}, [{"a": None}]]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), pytest.param("mariadb", marks=pytest.mark.mariadb)])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _databases):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('raw') / 'raw.db'}"
    else:
        url = _databases.create(request.param)
    store = open_store(url)
    store.upgrade()
    with store.unit_of_work("acme") as uow:
        uow.tenants.add(Tenant(id="acme", name="Acme"))
        uow.commit()
    yield store
    store.close()


def _issue_row(external_id: str, when: datetime, tags: list, custom: dict) -> tuple:
    values = {
        "tenant_id": "acme", "queue": "it", "title": "打印机卡纸", "description": "三楼\n'引号' \"双引号\" %s %(x)s", "reporter": "li",
        "status": "new", "priority": "high", "priority_rank": 2, "category": None, "tags": tags, "custom_fields": custom,
        "assignee": None, "source": "raw-test", "external_id": external_id, "created_at": when, "updated_at": when,
        "first_responded_at": None, "resolved_at": when + timedelta(hours=1), "closed_at": None, "version": 1,
    }
    return tuple(values[name] for name in ISSUE_COLUMNS)


def _stored(connection, external_id: str) -> tuple:
    columns = [tables.issues.c[name] for name in ISSUE_COLUMNS]
    return tuple(connection.execute(select(*columns).where(tables.issues.c.external_id == external_id)).one())


def _driver_values(connection, external_id: str) -> tuple:
    # The values as the driver returns them, before any SQLAlchemy result processing.
    names = ", ".join(ISSUE_COLUMNS)
    quoted = connection.dialect.identifier_preparer.quote
    sql = f"SELECT {names} FROM {quoted('wenti_issues')} WHERE external_id = '{external_id}'"
    return tuple(connection.exec_driver_sql(sql).one())


@pytest.mark.parametrize("position", range(len(DATETIMES)))
def test_issue_row_matches_sqlalchemy_insert(store, position: int) -> None:
    when = DATETIMES[position]
    tags = ["网络", "打印机"] if position % 2 else []
    custom = {"设备": "HP 1020"} if position % 2 else {}
    raw = RawInsert(tables.issues, ISSUE_COLUMNS, returning="id")
    with store.unit_of_work("acme") as uow:
        connection = uow.sql_connection()
        connection.execute(insert(tables.issues), dict(zip(ISSUE_COLUMNS, _issue_row(f"sa-{position}", when, tags, custom))))
        new_id = raw.insert_one(connection, _issue_row(f"raw-{position}", when, tags, custom))
        uow.commit()

        by_sqlalchemy = _driver_values(connection, f"sa-{position}")
        by_raw = _driver_values(connection, f"raw-{position}")
        read_back = _stored(connection, f"raw-{position}")
        newest = connection.execute(select(tables.issues.c.id).order_by(tables.issues.c.id.desc()).limit(1)).scalar_one()

    external_id_index = ISSUE_COLUMNS.index("external_id")
    for index, name in enumerate(ISSUE_COLUMNS):
        if index != external_id_index:
            assert by_raw[index] == by_sqlalchemy[index], name
    assert new_id == newest
    assert read_back[ISSUE_COLUMNS.index("created_at")] == when
    assert read_back[ISSUE_COLUMNS.index("tags")] == tags
    assert read_back[ISSUE_COLUMNS.index("custom_fields")] == custom


def test_insert_many_keeps_rows_and_order(store) -> None:
    raw = RawInsert(tables.issues, ISSUE_COLUMNS)
    when = DATETIMES[2]
    rows = [_issue_row(f"many-{number}", when + timedelta(minutes=number), [], {}) for number in range(30)]
    with store.unit_of_work("acme") as uow:
        connection = uow.sql_connection()
        raw.insert_many(connection, rows)
        uow.commit()
        stored = connection.execute(
            select(tables.issues.c.external_id, tables.issues.c.created_at)
            .where(tables.issues.c.external_id.like("many-%"))
            .order_by(tables.issues.c.id)
        ).all()

    assert [external_id for external_id, _at in stored] == [f"many-{number}" for number in range(30)]
    assert [at for _id, at in stored] == [when + timedelta(minutes=number) for number in range(30)]


def test_duplicate_raises_sqlalchemy_integrity_error(store) -> None:
    raw = RawInsert(tables.issues, ISSUE_COLUMNS)
    row = _issue_row("dup-1", DATETIMES[0], [], {})
    with store.unit_of_work("acme") as uow:
        connection = uow.sql_connection()
        raw.insert_many(connection, [row])
        with pytest.raises(IntegrityError):
            raw.insert_many(connection, [row])


def test_naive_datetime_rejected_before_writing(store) -> None:
    raw = RawInsert(tables.issues, ISSUE_COLUMNS)
    row = _issue_row("naive-1", datetime(2026, 3, 1, 8, 30), [], {})
    with store.unit_of_work("acme") as uow:
        connection = uow.sql_connection()
        with pytest.raises(ValueError, match="naive datetime"):
            raw.insert_many(connection, [row])
        assert _count(connection, "naive-1") == 0


def _count(connection, external_id: str) -> int:
    return len(connection.execute(select(tables.issues.c.id).where(tables.issues.c.external_id == external_id)).all())


def test_sqlite_converters_equal_sqlalchemy_processors() -> None:
    from wenti_sql.store import _json_serializer

    dialect = sqlite.dialect(json_serializer=_json_serializer)
    datetime_type = tables.issues.c.created_at.type
    expected_datetime = datetime_type.dialect_impl(dialect).bind_processor(dialect)
    for value in [*DATETIMES, None]:
        assert sqlite_datetime(value) == expected_datetime(value), value

    json_type = tables.issues.c.custom_fields.type
    expected_json = json_type.dialect_impl(dialect).bind_processor(dialect)
    convert = column_converter(json_type, dialect)
    for value in JSON_VALUES:
        assert convert(value) == expected_json(value), value


def test_unknown_column_rejected() -> None:
    with pytest.raises(ValueError, match="no column"):
        RawInsert(tables.issues, ("tenant_id", "titel"))


def test_issue_round_trip_sets_every_field(store) -> None:
    import attrs

    from wenti.domain import Issue, Priority

    # SqlIssueRepository._issue builds issues field by field; a new Issue field must be added there.
    assert set(attrs.fields_dict(Issue)) == {
        "tenant_id", "queue", "title", "reporter", "status", "description", "priority", "category", "tags",
        "custom_fields", "assignee", "source", "external_id", "created_at", "updated_at", "first_responded_at",
        "resolved_at", "closed_at", "version", "id",
    }
    when = DATETIMES[1]
    issue = Issue(
        tenant_id="acme", queue="it", title="全字段", reporter="li", status="resolved", description="描述",
        priority=Priority.CRITICAL, category="网络", tags=["a", "网络"], custom_fields={"设备": "HP", "floor": 3},
        assignee="wang", source="round-trip", external_id="rt-1", created_at=when, updated_at=when + timedelta(hours=3),
        first_responded_at=when + timedelta(minutes=5), resolved_at=when + timedelta(hours=2), closed_at=when + timedelta(hours=3),
        version=4,
    )
    with store.unit_of_work("acme") as uow:
        stored = uow.issues.add(issue)
        uow.commit()
    with store.unit_of_work("acme", readonly=True) as uow:
        loaded = uow.issues.get(stored.id)

    assert loaded == stored
