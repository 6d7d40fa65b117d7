"""The in-process API token cache: what it must never let through, and when entries go."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from litestar.testing import TestClient

from wenti_web import tokens
from wenti_web import token_cache as token_cache_module
from wenti_web.config import WebConfig
from wenti_web.server import create_app
from wenti_web.token_cache import TokenCache, token_cache


class FakeMonotonic:
    """Stands in for the `time` module inside `wenti_web.token_cache`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def make_token(web, username: str = "agent", scopes: tuple[str, ...] = ("read",), expires_at=None) -> tuple[str, str]:
    """Create a token directly in the database; return (token text, token id)."""
    with web.app.uow("default") as uow:
        text, record = tokens.create(
            uow.sql_connection(), "default", username, "test", scopes, web.app.clock.now(), expires_at
        )
        uow.commit()
    return text, record.id


def bearer_client(web, token: str) -> TestClient:
    client = web.new_client()
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def revoke_in_database(web, token_id: str) -> None:
    """Revoke as another worker process would: the row changes, this process's cache does not."""
    with web.app.uow("default") as uow:
        assert tokens.revoke(uow.sql_connection(), "default", token_id, web.app.clock.now())
        uow.commit()


def test_revoked_token_rejected_on_next_request(web):
    owner = web.client("agent")
    created = owner.post("/api/v1/me/tokens", json={"name": "ci", "scopes": ["read"]}, headers=web.headers(owner))
    bearer = bearer_client(web, created.json()["token"])

    warm = [bearer.get("/api/v1/issues").status_code for _ in range(3)]
    revoke = owner.delete(f"/api/v1/me/tokens/{created.json()['info']['id']}", headers=web.headers(owner))
    after = bearer.get("/api/v1/issues")

    assert warm == [200, 200, 200]
    assert revoke.status_code == 204
    assert after.status_code == 401
    assert after.json()["type"] == "urn:wenti:problem:not-authenticated"


def test_settings_page_revoke_clears_cache(web):
    owner = web.client("agent")
    text, token_id = make_token(web)
    bearer = bearer_client(web, text)

    warm = bearer.get("/api/v1/me")
    revoke = owner.post(
        f"/settings/tokens/{token_id}/revoke", data={"csrf_token": web.csrf(owner)}, follow_redirects=False
    )
    after = bearer.get("/api/v1/me")

    assert warm.status_code == 200
    assert revoke.status_code == 303
    assert after.status_code == 401


def test_wrong_secret_rejected_with_warm_cache(web):
    text, _token_id = make_token(web)
    body, tenant = text.rsplit(".", 1)
    forged = body[:-4] + ("AAAA" if not body.endswith("AAAA") else "BBBB") + "." + tenant

    warm = bearer_client(web, text).get("/api/v1/me")
    response = bearer_client(web, forged).get("/api/v1/me")

    assert warm.status_code == 200
    assert response.status_code == 401


def test_wrong_tenant_denied_with_warm_cache(web):
    text, _token_id = make_token(web)
    other_tenant = text.rsplit(".", 1)[0] + ".other"

    warm = bearer_client(web, text).get("/api/v1/issues")
    response = bearer_client(web, other_tenant).get("/api/v1/issues")

    assert warm.status_code == 200
    assert response.status_code == 401


def test_deactivated_user_token_rejected_next_request(web):
    admin = web.client("admin")
    text, _token_id = make_token(web, username="reporter")
    bearer = bearer_client(web, text)

    warm = bearer.get("/api/v1/issues")
    deactivate = admin.patch("/api/v1/users/reporter", json={"active": False}, headers=web.headers(admin))
    after = bearer.get("/api/v1/issues")

    assert warm.status_code == 200
    assert deactivate.status_code == 200, deactivate.text
    assert after.status_code == 401


def test_expired_token_rejected_with_warm_cache(web, frozen_clock):
    text, _token_id = make_token(web, expires_at=frozen_clock.now() + timedelta(minutes=10))
    bearer = bearer_client(web, text)

    warm = bearer.get("/api/v1/me")
    frozen_clock.advance(timedelta(minutes=11))
    after = bearer.get("/api/v1/me")

    assert warm.status_code == 200
    assert after.status_code == 401


def test_cached_token_keeps_scope_check(web):
    text, _token_id = make_token(web, scopes=("read",))
    bearer = bearer_client(web, text)

    read = bearer.get("/api/v1/issues")
    write = bearer.post("/api/v1/issues", json={"title": "只读令牌"})

    assert read.status_code == 200
    assert write.status_code == 403
    assert write.json()["type"] == "urn:wenti:problem:forbidden"


def test_reporter_token_sees_own_issues_only(web):
    agent_ctx = web.app.context("default", "agent")
    reporter_ctx = web.app.context("default", "reporter")
    web.app.issues.create(agent_ctx, title="处理人的问题")
    own = web.app.issues.create(reporter_ctx, title="提交人的问题")
    text, _token_id = make_token(web, username="reporter")
    bearer = bearer_client(web, text)

    first = bearer.get("/api/v1/issues").json()
    second = bearer.get("/api/v1/issues").json()

    assert [item["id"] for item in first["items"]] == [own.id]
    assert [item["id"] for item in second["items"]] == [own.id]


def test_other_process_revoke_applies_after_ttl(web, monkeypatch):
    fake = FakeMonotonic()
    monkeypatch.setattr(token_cache_module, "time", fake)
    text, token_id = make_token(web)
    bearer = bearer_client(web, text)
    ttl = token_cache(web.app).ttl_seconds

    warm = bearer.get("/api/v1/me")
    revoke_in_database(web, token_id)
    fake.now += ttl - 0.5
    within_ttl = bearer.get("/api/v1/me")
    fake.now += 1.0
    after_ttl = bearer.get("/api/v1/me")

    assert ttl == 5
    assert warm.status_code == 200
    assert within_ttl.status_code == 200
    assert after_ttl.status_code == 401


def test_zero_ttl_checks_database_every_request(web):
    uncached = create_app(web.app, WebConfig(token_cache_seconds=0))
    text, token_id = make_token(web)
    client = TestClient(uncached, base_url="http://127.0.0.1")
    client.headers["Authorization"] = f"Bearer {text}"

    warm = client.get("/api/v1/me")
    revoke_in_database(web, token_id)
    after = client.get("/api/v1/me")

    assert warm.status_code == 200
    assert after.status_code == 401


def test_zero_ttl_reads_user_every_request(web):
    uncached = create_app(web.app, WebConfig(token_cache_seconds=0))
    text, _token_id = make_token(web, username="reporter")
    client = TestClient(uncached, base_url="http://127.0.0.1")
    client.headers["Authorization"] = f"Bearer {text}"

    warm = client.get("/api/v1/me")
    # Another process deactivates the user: the row changes, this process's caches do not.
    with web.app.uow("default") as uow:
        user = uow.users.get("reporter")
        uow.users.update(attrs.evolve(user, active=False))
        uow.commit()
    after = client.get("/api/v1/me")

    assert warm.status_code == 200
    assert after.status_code == 401


@pytest.mark.parametrize("seconds", [-1, 61])
def test_cache_seconds_out_of_range_rejected(seconds):
    with pytest.raises(ValueError, match="token_cache_seconds"):
        WebConfig(token_cache_seconds=seconds)


def test_put_after_invalidate_is_ignored(web):
    text, token_id = make_token(web)
    _token_id, secret, tenant_id = tokens.parse(text)
    with web.app.uow("default") as uow:
        record = tokens.get(uow.sql_connection(), "default", token_id)
    cache = TokenCache(ttl_seconds=5)

    generation = cache.generation
    cache.invalidate(tenant_id, token_id)
    cache.put(record, secret, generation)
    stale = cache.get(tenant_id, token_id, secret, web.app.clock.now())
    cache.put(record, secret, cache.generation)
    fresh = cache.get(tenant_id, token_id, secret, web.app.clock.now())

    assert stale is None
    assert fresh == record


def test_full_cache_drops_expired_entries_first(web, monkeypatch):
    fake = FakeMonotonic()
    monkeypatch.setattr(token_cache_module, "time", fake)
    first_text, first_id = make_token(web)
    second_text, second_id = make_token(web)
    with web.app.uow("default") as uow:
        first = tokens.get(uow.sql_connection(), "default", first_id)
        second = tokens.get(uow.sql_connection(), "default", second_id)
    first_secret = tokens.parse(first_text)[1]
    second_secret = tokens.parse(second_text)[1]
    cache = TokenCache(ttl_seconds=5, max_entries=1)

    cache.put(first, first_secret, cache.generation)
    fake.now += 6
    cache.put(second, second_secret, cache.generation)
    now = web.app.clock.now()

    assert cache.get("default", first_id, first_secret, now) is None
    assert cache.get("default", second_id, second_secret, now) == second
