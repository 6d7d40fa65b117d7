"""Idempotency-Key on POST requests that create something (Stripe's semantics)."""

from __future__ import annotations

import threading
from datetime import timedelta

from wenti.store import IssueQuery


def count_issues(web) -> int:
    ctx = web.app.context("default", "admin")
    return web.app.issues.count(ctx, IssueQuery())


def test_same_key_same_body_replays_first_response(web):
    client = web.client("agent")
    headers = web.headers(client, **{"Idempotency-Key": "key-1"})

    first = client.post("/api/v1/issues", json={"title": "网络中断"}, headers=headers)
    second = client.post("/api/v1/issues", json={"title": "网络中断"}, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    assert count_issues(web) == 1


def test_same_key_other_body_is_rejected(web):
    client = web.client("agent")
    headers = web.headers(client, **{"Idempotency-Key": "key-2"})

    client.post("/api/v1/issues", json={"title": "网络中断"}, headers=headers)
    other = client.post("/api/v1/issues", json={"title": "别的问题"}, headers=headers)

    assert other.status_code == 422
    assert other.json()["type"] == "urn:wenti:problem:idempotency-key-reused"
    assert count_issues(web) == 1


def test_keys_are_scoped_per_user(web):
    agent = web.client("agent")
    other = web.client("agent2")

    first = agent.post("/api/v1/issues", json={"title": "A"}, headers=web.headers(agent, **{"Idempotency-Key": "shared"}))
    second = other.post("/api/v1/issues", json={"title": "B"}, headers=web.headers(other, **{"Idempotency-Key": "shared"}))

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_rejected_request_stores_nothing(web):
    client = web.client("agent")
    headers = web.headers(client, **{"Idempotency-Key": "key-3"})

    invalid = client.post("/api/v1/issues", json={"title": "  "}, headers=headers)
    fixed = client.post("/api/v1/issues", json={"title": "修好的标题"}, headers=headers)

    assert invalid.status_code == 422
    assert fixed.status_code == 201
    assert fixed.json()["title"] == "修好的标题"


def test_key_is_forgotten_after_retention(web, frozen_clock):
    client = web.client("agent")
    headers = web.headers(client, **{"Idempotency-Key": "key-4"})

    first = client.post("/api/v1/issues", json={"title": "A"}, headers=headers)
    frozen_clock.advance(timedelta(hours=25))
    # The session has expired too, so sign in again.
    client = web.new_client()
    web.sign_in(client, "agent")
    second = client.post("/api/v1/issues", json={"title": "A"}, headers=web.headers(client, **{"Idempotency-Key": "key-4"}))

    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]


def test_key_in_flight_gets_409(web):
    """A second request with the key arrives while the first is still executing."""
    client = web.client("agent")
    headers = web.headers(client, **{"Idempotency-Key": "key-5"})
    entered = threading.Event()
    release = threading.Event()
    original_create = web.app.issues.create

    def slow_create(*args, **kwargs):
        entered.set()
        assert release.wait(10), "the test never released the first request"
        return original_create(*args, **kwargs)

    web.app.issues.create = slow_create
    results = {}

    def first_request():
        results["first"] = client.post("/api/v1/issues", json={"title": "慢请求"}, headers=headers)

    worker = threading.Thread(target=first_request)
    worker.start()
    try:
        assert entered.wait(10), "the first request never started"
        second_client = web.new_client()
        web.sign_in(second_client, "agent")
        duplicate = second_client.post("/api/v1/issues", json={"title": "慢请求"}, headers=web.headers(second_client, **{"Idempotency-Key": "key-5"}))
    finally:
        release.set()
        worker.join(10)
        web.app.issues.create = original_create

    assert duplicate.status_code == 409
    assert duplicate.json()["type"] == "urn:wenti:problem:idempotency-in-progress"
    assert results["first"].status_code == 201
    assert count_issues(web) == 1


def test_overlong_key_is_rejected(web):
    client = web.client("agent")

    response = client.post("/api/v1/issues", json={"title": "A"}, headers=web.headers(client, **{"Idempotency-Key": "k" * 256}))

    assert response.status_code in (400, 422)
    assert count_issues(web) == 0


def test_comment_post_is_idempotent(web):
    client = web.client("agent")
    issue_id = client.post("/api/v1/issues", json={"title": "A"}, headers=web.headers(client)).json()["id"]
    headers = web.headers(client, **{"Idempotency-Key": "comment-1"})

    first = client.post(f"/api/v1/issues/{issue_id}/comments", json={"body": "你好"}, headers=headers)
    again = client.post(f"/api/v1/issues/{issue_id}/comments", json={"body": "你好"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert len(client.get(f"/api/v1/issues/{issue_id}/comments").json()) == 1
