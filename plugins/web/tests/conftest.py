"""Fixtures of the web plugin's tests: an app on SQLite, the ASGI app, signed-in clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from wenti.domain import Role

from wenti_web import accounts
from wenti_web.server import create_app

PASSWORD = "correct horse 电池 staple"
USERS = (
    ("admin", "管理员", Role.ADMIN),
    ("manager", "队列经理", Role.QUEUE_MANAGER),
    ("agent", "处理人", Role.AGENT),
    ("agent2", "处理人二", Role.AGENT),
    ("reporter", "提交人", Role.REPORTER),
    ("reporter2", "另一个提交人", Role.REPORTER),
)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with tiny costs, so seeding six users does not dominate test time.

    `test_web_accounts.py` checks the production parameters on their own.
    """
    from argon2 import PasswordHasher

    from wenti_web import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


def entry_point_plugin(name: str) -> Any:
    """Load an installed plugin through its `wenti` entry point, as the loader does."""
    from importlib.metadata import entry_points

    (entry_point,) = entry_points(group="wenti", name=name)
    return entry_point.load()


@pytest.fixture
def web_app(make_wenti_app) -> Any:
    # Only the storage and web plugins, so other plugins' state cannot change these tests.
    app = make_wenti_app(
        users=USERS,
        installed_plugins=False,
        plugins=[(entry_point_plugin("sql"), "sql"), (entry_point_plugin("web"), "web")],
    )
    admin = app.context("default", "admin")
    app.admin.ensure_tenant("other", "Other company", admin_username="outsider")
    for username, _name, _role in USERS:
        accounts.set_password(app, "default", username, PASSWORD)
    accounts.set_password(app, "other", "outsider", PASSWORD)
    assert admin.user.role is Role.ADMIN
    return app


@pytest.fixture
def asgi(web_app) -> Any:
    return create_app(web_app)


def make_client(asgi: Any) -> TestClient:
    return TestClient(asgi, base_url="http://127.0.0.1")


def sign_in(client: TestClient, username: str, password: str = PASSWORD, tenant: str = "default") -> Any:
    """Sign in through the login form; returns the login response."""
    page = client.get("/login")
    csrf = client.cookies.get("wenti_login_csrf")
    assert page.status_code == 200, page.text
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf, "tenant": tenant, "next": "/"},
        follow_redirects=False,
    )


class WebHelper:
    """Signed-in clients per user and the helpers tests share (a fixture, because the
    tests run with `--import-mode=importlib` and cannot import this module)."""

    password = PASSWORD

    def __init__(self, app: Any, asgi: Any) -> None:
        self.app = app
        self.asgi = asgi
        self._clients: dict[str, TestClient] = {}
        self._csrf: dict[str, str] = {}

    def new_client(self) -> TestClient:
        # Not entered as a context manager: the app has no lifespan work, and Litestar
        # waits forever at shutdown when two clients ran the lifespan of one app.
        client = make_client(self.asgi)
        self._opened.append(client)
        return client

    _opened: list[TestClient]

    def sign_in(self, client: TestClient, username: str, password: str = PASSWORD, tenant: str = "default") -> Any:
        return sign_in(client, username, password, tenant)

    def client(self, username: str) -> TestClient:
        """A client signed in as `username` (user `outsider` is in tenant `other`)."""
        if username not in self._clients:
            client = self.new_client()
            response = sign_in(client, username, tenant="other" if username == "outsider" else "default")
            assert response.status_code == 303, response.text
            self._clients[username] = client
        return self._clients[username]

    def csrf(self, client: TestClient) -> str:
        """The session's CSRF token, read from a page that embeds it."""
        import re

        page = client.get("/settings")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text[:500]
        return match.group(1)

    def headers(self, client: TestClient, **extra: str) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf(client), **extra}

    def close(self) -> None:
        self._opened.clear()


@pytest.fixture
def web(web_app, asgi) -> Iterator[WebHelper]:
    helper = WebHelper(web_app, asgi)
    helper._opened = []
    yield helper
    helper.close()
