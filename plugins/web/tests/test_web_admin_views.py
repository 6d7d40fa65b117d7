"""Admin pages that plugins register with `register_admin_views`, shown with the notify plugin's delivery log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from wenti import hookimpl
from wenti.domain import Role
from wenti.records import AdminAction, AdminColumn, AdminView, Notifier

from wenti_web import accounts
from wenti_web.server import create_app

PASSWORD = "correct horse 电池 staple"
USERS = (
    ("admin", "管理员", Role.ADMIN),
    ("manager", "队列经理", Role.QUEUE_MANAGER),
    ("agent", "处理人", Role.AGENT),
)
PAGE = "/admin/views/notify_deliveries"


class PermanentFailure(Exception):
    permanent = True


class BrokenRobot:
    """A channel plugin whose robot rejects every message, so each delivery becomes a dead letter at once."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, message: dict[str, Any], app: Any) -> None:
        self.calls += 1
        raise PermanentFailure("robot key <b>revoked</b>")

    @hookimpl
    def register_notifiers(self) -> list[Notifier]:
        return [Notifier(name="wecom", send=self.send)]


@pytest.fixture
def robot() -> BrokenRobot:
    return BrokenRobot()


@pytest.fixture
def notify_app(make_wenti_app, robot) -> Any:
    app = make_wenti_app(
        users=USERS,
        enabled_plugins=["sql", "web", "notify"],
        config_toml="[plugins.notify]\ndispatch_in_process = false\n",
        plugins=[(robot, "broken_robot")],
    )
    for username, _name, _role in USERS:
        accounts.set_password(app, "default", username, PASSWORD)
    return app


@pytest.fixture
def asgi(notify_app) -> Any:
    return create_app(notify_app)


def signed_in(asgi: Any, username: str) -> TestClient:
    client = TestClient(asgi, base_url="http://127.0.0.1")
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": client.cookies.get("wenti_login_csrf"), "tenant": "default", "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def dead_letter(app: Any) -> int:
    """Queue one delivery to the broken robot and run one dispatch round, which makes it a dead letter."""
    from wenti_notify import queue
    from wenti_notify.service import service_for

    service = service_for(app)
    message = {"subject": "打印机卡纸", "text": "t", "markdown": "m", "html": "h", "link": "http://127.0.0.1/issues/1"}
    item = queue.NewDelivery("default", "event-1", "issue.created", None, "wecom", "ops-robot", message)
    with service.transaction("default") as conn:
        queue.enqueue(conn, [item], app.clock.now())

    assert service.dispatcher().run_once(["default"]).dead == 1
    (row,) = service.list_deliveries(app.context("default", "admin"))
    assert row.status == queue.DEAD
    return row.id


def delivery_status(app: Any, delivery_id: int) -> str:
    from wenti_notify.service import service_for

    rows = service_for(app).list_deliveries(app.context("default", "admin"))
    return {row.id: row.status for row in rows}[delivery_id]


def test_register_admin_views_lists_notify_page(notify_app):
    views = {view.name: view for view in notify_app.hooks.admin_views()}

    assert views["notify_deliveries"].plugin == "notify"
    assert [action.name for action in views["notify_deliveries"].actions] == ["retry"]


def test_admin_sees_and_retries_dead_letter(notify_app, asgi, robot):
    delivery_id = dead_letter(notify_app)
    admin = signed_in(asgi, "admin")

    page = admin.get(PAGE, params={"status": "dead"})

    assert page.status_code == 200, page.text
    assert "通知投递" in page.text
    assert "死信" in page.text
    assert "ops-robot" in page.text
    assert "robot key &lt;b&gt;revoked&lt;/b&gt;" in page.text
    assert "<b>revoked" not in page.text
    assert f'data-row-id="{delivery_id}"' in page.text
    assert f'action="/admin/views/notify_deliveries/actions/retry"' in page.text

    retried = admin.post(
        f"{PAGE}/actions/retry",
        data={"csrf_token": csrf_token(page.text), "row_id": str(delivery_id), "status": ""},
    )

    assert retried.status_code == 200, retried.text
    assert f"投递 {delivery_id} 已重新排队，将在下一轮发送。" in retried.text
    assert delivery_status(notify_app, delivery_id) == "pending"
    assert robot.calls == 1


def test_admin_nav_links_view(notify_app, asgi):
    admin = signed_in(asgi, "admin")
    manager = signed_in(asgi, "manager")

    assert f'href="{PAGE}"' in admin.get("/admin/users").text
    assert f'href="{PAGE}"' not in manager.get("/admin/users").text


def test_agent_and_manager_denied(notify_app, asgi):
    delivery_id = dead_letter(notify_app)
    admin_page = signed_in(asgi, "admin").get(PAGE).text
    agent = signed_in(asgi, "agent")
    manager = signed_in(asgi, "manager")

    agent_page = agent.get(PAGE)
    manager_page = manager.get(PAGE)
    agent_post = agent.post(
        f"{PAGE}/actions/retry", data={"csrf_token": csrf_token(agent.get("/settings").text), "row_id": str(delivery_id)}
    )

    assert agent_page.status_code == 403
    assert "ops-robot" not in agent_page.text
    assert manager_page.status_code == 403
    assert agent_post.status_code == 403
    assert delivery_status(notify_app, delivery_id) == "dead"
    assert "ops-robot" in admin_page


def test_retry_without_csrf_rejected(notify_app, asgi):
    delivery_id = dead_letter(notify_app)
    admin = signed_in(asgi, "admin")

    response = admin.post(f"{PAGE}/actions/retry", data={"csrf_token": "forged", "row_id": str(delivery_id)})

    assert response.status_code == 403
    assert delivery_status(notify_app, delivery_id) == "dead"


def test_retry_of_delivered_row_reports_error(notify_app, asgi):
    admin = signed_in(asgi, "admin")
    token = csrf_token(admin.get(PAGE).text)

    missing = admin.post(f"{PAGE}/actions/retry", data={"csrf_token": token, "row_id": "999"})
    invalid = admin.post(f"{PAGE}/actions/retry", data={"csrf_token": token, "row_id": "abc"})

    assert missing.status_code == 404
    assert "999" in missing.text
    assert invalid.status_code == 422
    assert "abc" in invalid.text


def test_unknown_view_status_and_limit(notify_app, asgi):
    admin = signed_in(asgi, "admin")

    unknown_view = admin.get("/admin/views/nothing_here")
    unknown_status = admin.get(PAGE, params={"status": "lost"})
    bad_limit = admin.get(PAGE, params={"limit": "100000"})

    assert unknown_view.status_code == 404
    assert "nothing_here" in unknown_view.text
    assert unknown_status.status_code == 422
    assert "lost" in unknown_status.text
    assert bad_limit.status_code == 422
    assert "100000" in bad_limit.text


class ShoutingView:
    """A view whose rows carry markup and whose action is limited to `failed` rows."""

    @hookimpl
    def register_admin_views(self) -> list[AdminView]:
        def rows(ctx, app, status=None, limit=100):
            return [
                {"id": 1, "status": "failed", "note": "<script>alert(1)</script>"},
                {"id": 2, "status": "done", "note": "ok"},
            ]

        return [
            AdminView(
                name="shouting",
                title="Shouting",
                columns=(AdminColumn("note", "Note"), AdminColumn("status", "Status")),
                rows=rows,
                actions=(AdminAction("again", "Again", lambda ctx, app, row_id: f"ran {row_id}", statuses=("failed",)),),
            )
        ]


def test_view_escapes_cells_and_filters_actions(make_wenti_app):
    app = make_wenti_app(users=USERS, enabled_plugins=["sql", "web"], plugins=[(ShoutingView(), "shouting")])
    accounts.set_password(app, "default", "admin", PASSWORD)
    admin = signed_in(create_app(app), "admin")

    page = admin.get("/admin/views/shouting").text

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert page.count('action="/admin/views/shouting/actions/again"') == 1
