"""`IssueQuery.extra` custom field filters on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import datetime, timezone
import pytest

from wenti.domain import Issue, Tenant
from wenti.store import IssueQuery
from wenti_sql import open_store
from wenti_sql.errors import UnsupportedQuery

NOW = datetime(2026, 8, 1, tzinfo=timezone.utc)


# One database per backend for the whole module: the tests only read.
@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), pytest.param("mariadb", marks=pytest.mark.mariadb)])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _databases):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fields') / 'fields.db'}"
    else:
        url = _databases.create(request.param)
    store = open_store(url)
    store.upgrade()
    with store.unit_of_work("acme") as uow:
        uow.tenants.add(Tenant(id="acme", name="Acme"))
        fields = [
            {"device": "HP 1020", "floor": 3, "cost": 12.5, "urgent": True, "设备": "打印机"},
            {"device": "Dell", "floor": 5, "cost": 80.0, "urgent": False},
            {"device": "HP 1020", "floor": 5},
            {},
        ]
        uow.issues.add_many([Issue(tenant_id="acme", queue="it", title=f"#{n}", reporter="a", status="new", custom_fields=f, created_at=NOW) for n, f in enumerate(fields)])
        uow.commit()
    yield store
    store.close()


def _titles(store, **extra) -> list[str]:
    with store.unit_of_work("acme") as uow:
        return sorted(issue.title for issue in uow.issues.list(IssueQuery(extra=extra)).items)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"custom_fields.device": "HP 1020"}, ["#0", "#2"]),
        ({"custom_fields.device": ["Dell", "Lenovo"]}, ["#1"]),
        ({"custom_fields.floor": 5}, ["#1", "#2"]),
        ({"custom_fields.cost": 12.5}, ["#0"]),
        ({"custom_fields.urgent": True}, ["#0"]),
        ({"custom_fields.urgent": False}, ["#1"]),
        ({"custom_fields.设备": "打印机"}, ["#0"]),
        ({"custom_fields.device": "HP 1020", "custom_fields.floor": 5}, ["#2"]),
        ({"custom_fields.device": []}, []),
        ({"custom_fields.missing": "x"}, []),
    ],
)
def test_custom_field_filter(store, extra: dict, expected: list[str]) -> None:
    assert _titles(store, **extra) == expected


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"sla.due_within": 4}, "'sla.due_within'"),
        ({"custom_fields.a'b": "x"}, "custom_fields.a'b"),
        ({"custom_fields.device": {"nested": 1}}, "{'nested': 1}"),
        ({"custom_fields.floor": [5, "5"]}, "mixes"),
    ],
)
def test_custom_field_filter_rejects(store, extra: dict, fragment: str) -> None:
    with store.unit_of_work("acme") as uow, pytest.raises(UnsupportedQuery) as caught:
        uow.issues.count(IssueQuery(extra=extra))
    assert fragment in str(caught.value)
