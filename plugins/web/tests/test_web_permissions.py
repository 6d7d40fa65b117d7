"""Permission denials per role and across tenants, through the API."""

from __future__ import annotations

import pytest


@pytest.fixture
def issue(web):
    """An issue reported by `reporter`, with an internal note."""
    agent = web.client("agent")
    created = agent.post("/api/v1/issues", json={"title": "门禁卡失效", "reporter": "reporter"}, headers=web.headers(agent))
    assert created.status_code == 201, created.text
    issue_id = created.json()["id"]
    note = agent.post(f"/api/v1/issues/{issue_id}/comments", json={"body": "内部：卡已过期", "visibility": "internal"}, headers=web.headers(agent))
    assert note.status_code == 201
    return created.json()


def test_anonymous_gets_401_everywhere(web, issue):
    client = web.new_client()

    for path in ("/api/v1/issues", f"/api/v1/issues/{issue['id']}", "/api/v1/me", "/api/v1/queues", "/api/v1/users"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["type"] == "urn:wenti:problem:not-authenticated"
    assert client.post("/api/v1/issues", json={"title": "x"}).status_code == 401


def test_reporter_sees_only_own_issues_and_public_comments(web, issue):
    owner = web.client("reporter")
    other = web.client("reporter2")

    own_list = owner.get("/api/v1/issues").json()["items"]
    other_list = other.get("/api/v1/issues").json()["items"]
    other_get = other.get(f"/api/v1/issues/{issue['id']}")
    other_comments = other.get(f"/api/v1/issues/{issue['id']}/comments")
    own_comments = owner.get(f"/api/v1/issues/{issue['id']}/comments").json()

    assert [item["id"] for item in own_list] == [issue["id"]]
    assert other_list == []
    assert other_get.status_code == 404
    assert other_comments.status_code == 404
    assert own_comments == []


def test_reporter_denied_staff_actions(web, issue):
    client = web.client("reporter")
    headers = web.headers(client, **{"If-Match": "*"})
    issue_id = issue["id"]

    assign = client.put(f"/api/v1/issues/{issue_id}/assignee", json={"assignee": "agent"}, headers=headers)
    start = client.post(f"/api/v1/issues/{issue_id}/transitions", json={"transition": "start"}, headers=headers)
    link = client.post(f"/api/v1/issues/{issue_id}/links", json={"target_id": issue_id, "type": "related"}, headers=headers)
    note = client.post(f"/api/v1/issues/{issue_id}/comments", json={"body": "x", "visibility": "internal"}, headers=headers)
    as_other = client.post("/api/v1/issues", json={"title": "x", "reporter": "reporter2"}, headers=headers)
    public = client.post(f"/api/v1/issues/{issue_id}/comments", json={"body": "还是打不开门"}, headers=headers)

    for response in (assign, start, note, as_other):
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "urn:wenti:problem:forbidden"
    assert link.status_code in (403, 422)
    assert public.status_code == 201


def test_user_admin_needs_admin_role(web):
    agent = web.client("agent")
    manager = web.client("manager")
    admin = web.client("admin")
    body = {"username": "newbie", "display_name": "新人", "role": "agent"}

    by_agent = agent.post("/api/v1/users", json=body, headers=web.headers(agent))
    by_manager = manager.post("/api/v1/users", json=body, headers=web.headers(manager))
    by_admin = admin.post("/api/v1/users", json={**body, "password": "a long enough secret"}, headers=web.headers(admin))
    reporter_list = web.client("reporter").get("/api/v1/users")

    assert by_agent.status_code == 403
    assert by_manager.status_code == 403
    assert by_admin.status_code == 201, by_admin.text
    assert reporter_list.status_code == 403
    newbie = web.new_client()
    assert web.sign_in(newbie, "newbie", "a long enough secret").status_code == 303


def test_team_creation_needs_queue_manager(web):
    agent = web.client("agent")
    manager = web.client("manager")
    body = {"key": "desk", "name": "服务台", "members": ["agent"]}

    denied = agent.post("/api/v1/teams", json=body, headers=web.headers(agent))
    created = manager.post("/api/v1/teams", json=body, headers=web.headers(manager))

    assert denied.status_code == 403
    assert created.status_code == 201, created.text
    assert [team["key"] for team in agent.get("/api/v1/teams").json()] == ["desk"]


def test_other_tenant_sees_nothing(web, issue):
    outsider = web.client("outsider")
    issue_id = issue["id"]

    listed = outsider.get("/api/v1/issues").json()["items"]
    fetched = outsider.get(f"/api/v1/issues/{issue_id}")
    comments = outsider.get(f"/api/v1/issues/{issue_id}/comments")
    patched = outsider.patch(f"/api/v1/issues/{issue_id}", json={"title": "改"}, headers=web.headers(outsider, **{"If-Match": "*"}))
    users = [user["username"] for user in outsider.get("/api/v1/users").json()]

    assert listed == []
    assert fetched.status_code == 404
    assert comments.status_code == 404
    assert patched.status_code == 404
    assert users == ["outsider"]


def test_deactivated_user_loses_session(web):
    reporter = web.client("reporter")
    admin = web.client("admin")

    before = reporter.get("/api/v1/me")
    response = admin.patch("/api/v1/users/reporter", json={"active": False}, headers=web.headers(admin))
    after = reporter.get("/api/v1/me")

    assert before.status_code == 200
    assert response.status_code == 200, response.text
    assert after.status_code == 401


def test_me_reports_role_and_locale(web):
    me = web.client("agent").get("/api/v1/me").json()

    assert me["user"]["username"] == "agent"
    assert me["user"]["role"] == "agent"
    assert me["tenant_id"] == "default"
    assert me["authenticated_by"] == "session"
    assert me["locale"] == "zh_CN"
