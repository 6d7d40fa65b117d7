"""Passwords, sessions, CSRF, login throttling and API tokens."""

from __future__ import annotations

import re
from datetime import timedelta

from argon2 import PasswordHasher

from wenti_web import passwords


def test_production_hasher_uses_owasp_argon2id_minimum():
    hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    encoded = hasher.hash("correct horse battery")

    assert encoded.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in encoded
    assert passwords._hasher.__class__ is PasswordHasher


def test_password_policy():
    assert passwords.policy_problem("short") is not None
    assert passwords.policy_problem("password") is not None
    assert passwords.policy_problem("woaini1314") is not None
    assert passwords.policy_problem("zhangsan99", "zhangsan99") is not None
    assert passwords.policy_problem("x" * 257) is not None
    assert passwords.policy_problem("长城上的月亮很圆") is None
    assert passwords.policy_problem("a long passphrase without rules") is None


def test_login_sets_new_session_and_logout_ends_it(web):
    client = web.new_client()
    first = web.sign_in(client, "agent")
    first_cookie = client.cookies.get("wenti_session")

    logout = client.post("/logout", data={"csrf_token": web.csrf(client)}, follow_redirects=False)
    second = web.sign_in(client, "agent")
    second_cookie = client.cookies.get("wenti_session")
    replay = web.new_client()
    replay.cookies.set("wenti_session", first_cookie)

    assert first.status_code == second.status_code == 303
    assert "HttpOnly" in first.headers["set-cookie"]
    assert "samesite=lax" in first.headers["set-cookie"].lower()
    assert logout.status_code == 303
    assert second_cookie != first_cookie
    assert replay.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200


def test_wrong_password_shows_generic_error(web):
    client = web.new_client()

    wrong_password = web.sign_in(client, "agent", "not the password")
    unknown_user = web.sign_in(client, "nobody", "not the password")

    assert wrong_password.status_code == 401
    assert unknown_user.status_code == 401
    assert "用户名或密码错误" in wrong_password.text
    assert "用户名或密码错误" in unknown_user.text


def test_login_throttling_blocks_then_expires(web, frozen_clock):
    client = web.new_client()
    statuses = [web.sign_in(client, "agent", f"wrong {n}").status_code for n in range(6)]

    blocked = web.sign_in(client, "agent")
    frozen_clock.advance(timedelta(minutes=20))
    later = web.sign_in(client, "agent")

    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert later.status_code == 303


def test_login_form_rejects_forged_csrf(web):
    client = web.new_client()
    client.get("/login")

    forged = client.post(
        "/login",
        data={"username": "agent", "password": web.password, "csrf_token": "forged", "tenant": "default"},
        follow_redirects=False,
    )

    assert forged.status_code == 403
    assert client.cookies.get("wenti_session") is None


def test_cookie_session_api_write_needs_csrf_header(web):
    client = web.client("agent")

    without = client.post("/api/v1/issues", json={"title": "没有令牌"})
    forged = client.post("/api/v1/issues", json={"title": "伪造令牌"}, headers={"X-CSRF-Token": "forged"})
    form = client.post(
        "/issues/new",
        data={"title": "表单", "csrf_token": "forged"},
        files={"file": ("", b"", "application/octet-stream")},
    )

    assert without.status_code == 403
    assert without.json()["type"] == "urn:wenti:problem:csrf-failed"
    assert forged.status_code == 403
    assert form.status_code == 403
    assert client.get("/api/v1/issues").json()["items"] == []


def test_idle_and_absolute_session_timeouts(web, frozen_clock):
    client = web.client("agent")

    frozen_clock.advance(timedelta(minutes=119))
    still = client.get("/api/v1/me").status_code
    frozen_clock.advance(timedelta(minutes=121))
    idle = client.get("/api/v1/me").status_code

    other = web.new_client()
    web.sign_in(other, "agent2")
    # Each step stays under the idle timeout; together they pass the 12-hour absolute one.
    for _ in range(8):
        frozen_clock.advance(timedelta(minutes=100))
        last = other.get("/api/v1/me").status_code

    assert still == 200
    assert idle == 401
    assert last == 401


def test_api_token_lifecycle(web):
    client = web.client("agent")

    created = client.post("/api/v1/me/tokens", json={"name": "脚本", "scopes": ["read"]}, headers=web.headers(client))
    token = created.json()["token"]
    bearer = web.new_client()
    bearer.headers["Authorization"] = f"Bearer {token}"
    read = bearer.get("/api/v1/me")
    write = bearer.post("/api/v1/issues", json={"title": "用令牌创建"})
    listed = client.get("/api/v1/me/tokens").json()
    revoke = client.delete(f"/api/v1/me/tokens/{created.json()['info']['id']}", headers=web.headers(client))
    after = bearer.get("/api/v1/me")

    assert created.status_code == 201, created.text
    assert re.match(r"^wt_[0-9a-f]{16}_\S+\.default$", token)
    assert read.status_code == 200
    assert read.json()["authenticated_by"] == "token"
    assert write.status_code == 403
    assert [t["name"] for t in listed] == ["脚本"]
    assert revoke.status_code == 204
    assert after.status_code == 401


def test_write_token_creates_without_csrf(web):
    client = web.client("agent")
    token = client.post("/api/v1/me/tokens", json={"name": "ci"}, headers=web.headers(client)).json()["token"]
    bearer = web.new_client()
    bearer.headers["Authorization"] = f"Bearer {token}"

    created = bearer.post("/api/v1/issues", json={"title": "来自脚本"})
    bad = web.new_client().get("/api/v1/me", headers={"Authorization": "Bearer wt_nonsense"})
    basic = web.new_client().get("/api/v1/me", headers={"Authorization": "Basic abc"})

    assert created.status_code == 201, created.text
    assert created.json()["source"] == "api"
    assert bad.status_code == 401
    assert basic.status_code == 401


def test_token_scopes_are_validated(web):
    client = web.client("agent")

    response = client.post("/api/v1/me/tokens", json={"name": "x", "scopes": ["root"]}, headers=web.headers(client))

    assert response.status_code == 422
    assert "root" in response.json()["detail"]


def test_password_change_ends_sessions(web):
    client = web.client("agent2")
    csrf = web.csrf(client)
    other_device = web.new_client()
    web.sign_in(other_device, "agent2")

    response = client.post(
        "/settings/password",
        data={"csrf_token": csrf, "current_password": web.password, "new_password": "新的足够长的密码", "confirm_password": "新的足够长的密码"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert other_device.get("/api/v1/me").status_code == 401
    fresh = web.new_client()
    assert web.sign_in(fresh, "agent2", "新的足够长的密码").status_code == 303
