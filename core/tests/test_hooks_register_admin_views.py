"""The hook `register_admin_views` through the facade."""

from __future__ import annotations

import pytest

from wenti import hookimpl
from wenti.errors import PluginError
from wenti.records import AdminAction, AdminColumn, AdminView


def _rows(ctx, app, status=None, limit=100):
    rows = [{"id": 1, "status": "dead"}, {"id": 2, "status": "delivered"}]
    return [row for row in rows if status is None or row["status"] == status][:limit]


class DeliveryViews:
    @hookimpl
    def register_admin_views(self):
        retry = AdminAction(name="retry", label="Retry", run=lambda ctx, app, row_id: f"retried {row_id}", statuses=("dead",))
        return [
            AdminView(
                name="deliveries",
                title="Deliveries",
                columns=(AdminColumn("id", "ID"), AdminColumn("status", "Status")),
                rows=_rows,
                actions=(retry,),
                statuses=("dead", "delivered"),
            )
        ]


class SameName:
    @hookimpl
    def register_admin_views(self):
        return [AdminView(name="deliveries", title="Other", columns=(), rows=_rows)]


def test_register_admin_views_stamps_plugin(wenti_pm, register_plugin):
    register_plugin(DeliveryViews(), name="notify_like")

    (view,) = wenti_pm.hooks.admin_views()

    assert view.name == "deliveries"
    assert view.plugin == "notify_like"
    assert view.required_role == "admin"
    assert view.translate is None
    assert view.rows(None, None, status="dead") == [{"id": 1, "status": "dead"}]
    assert view.actions[0].run(None, None, "1") == "retried 1"
    assert view.actions[0].statuses == ("dead",)


def test_register_admin_views_name_conflict(wenti_pm, register_plugin):
    register_plugin(DeliveryViews(), name="notify_like")
    register_plugin(SameName(), name="copycat")

    with pytest.raises(PluginError, match="deliveries"):
        wenti_pm.hooks.admin_views()


def test_register_admin_views_rejects_other_records(wenti_pm, register_plugin):
    class Wrong:
        @hookimpl
        def register_admin_views(self):
            return [{"name": "deliveries"}]

    register_plugin(Wrong(), name="wrong")

    with pytest.raises(PluginError, match="AdminView"):
        wenti_pm.hooks.admin_views()
