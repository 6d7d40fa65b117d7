"""The issues API through the ASGI app: CRUD, lists, ETag/If-Match, transitions, comments, links."""

from __future__ import annotations

import pytest


def create(web, client, **body):
    body.setdefault("title", "打印机卡纸")
    response = client.post("/api/v1/issues", json=body, headers=web.headers(client))
    assert response.status_code == 201, response.text
    return response


def test_create_returns_issue_with_etag_and_location(web):
    client = web.client("agent")

    response = create(web, client, title="三楼打印机卡纸", description="每张都卡", priority="high", reporter="reporter")

    body = response.json()
    assert body["title"] == "三楼打印机卡纸"
    assert body["priority"] == "high"
    assert body["reporter"] == "reporter"
    assert body["status"] == "new"
    assert response.headers["etag"] == f'"{body["id"]}-{body["version"]}"'
    assert response.headers["location"] == f"/api/v1/issues/{body['id']}"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_get_issue_and_list_with_filters(web):
    client = web.client("agent")
    first = create(web, client, title="网络中断", priority="critical").json()
    create(web, client, title="发票错误", priority="low")

    fetched = client.get(f"/api/v1/issues/{first['id']}")
    critical = client.get("/api/v1/issues", params={"priority": "critical"})
    everything = client.get("/api/v1/issues", params={"sort": "priority", "with_total": "true"})

    assert fetched.status_code == 200
    assert fetched.json()["title"] == "网络中断"
    assert [item["title"] for item in critical.json()["items"]] == ["网络中断"]
    assert everything.json()["total"] == 2
    assert [item["priority"] for item in everything.json()["items"]] == ["critical", "low"]


def test_list_pages_with_cursor(web):
    client = web.client("agent")
    for number in range(5):
        create(web, client, title=f"问题 {number}")

    seen = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, "sort": "id"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/issues", params=params).json()
        seen.extend(item["title"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [f"问题 {n}" for n in range(5)]


def test_list_rejects_unknown_sort_field(web):
    client = web.client("agent")

    response = client.get("/api/v1/issues", params={"sort": "password"})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:wenti:problem:validation-failed"
    assert "password" in response.json()["detail"]


def test_patch_requires_if_match(web):
    client = web.client("agent")
    issue = create(web, client).json()

    missing = client.patch(f"/api/v1/issues/{issue['id']}", json={"title": "新标题"}, headers=web.headers(client))
    weak = client.patch(
        f"/api/v1/issues/{issue['id']}",
        json={"title": "新标题"},
        headers=web.headers(client, **{"If-Match": f'W/"{issue["id"]}-{issue["version"]}"'}),
    )

    assert missing.status_code == 428
    assert missing.json()["type"] == "urn:wenti:problem:precondition-required"
    assert weak.status_code == 412
    assert client.get(f"/api/v1/issues/{issue['id']}").json()["title"] == "打印机卡纸"


def test_patch_with_current_etag_then_stale_etag(web):
    client = web.client("agent")
    created = create(web, client)
    issue_id = created.json()["id"]
    etag = created.headers["etag"]

    first = client.patch(f"/api/v1/issues/{issue_id}", json={"title": "改过的标题"}, headers=web.headers(client, **{"If-Match": etag}))
    stale = client.patch(f"/api/v1/issues/{issue_id}", json={"title": "又改"}, headers=web.headers(client, **{"If-Match": etag}))

    assert first.status_code == 200, first.text
    assert first.headers["etag"] != etag
    assert stale.status_code == 412
    assert stale.json()["type"] == "urn:wenti:problem:precondition-failed"
    assert client.get(f"/api/v1/issues/{issue_id}").json()["title"] == "改过的标题"


def test_patch_rejects_unknown_field_and_malformed_json(web):
    client = web.client("agent")
    created = create(web, client)
    issue_id = created.json()["id"]
    headers = web.headers(client, **{"If-Match": created.headers["etag"]})

    unknown = client.patch(f"/api/v1/issues/{issue_id}", json={"title": "x", "status": "closed"}, headers=headers)
    malformed = client.patch(
        f"/api/v1/issues/{issue_id}", content=b'{"title": ', headers={**headers, "Content-Type": "application/json"}
    )

    assert unknown.status_code == 400
    assert unknown.json()["type"] == "urn:wenti:problem:unknown-field"
    assert "status" in unknown.json()["detail"]
    assert malformed.status_code == 400
    assert malformed.json()["type"] == "urn:wenti:problem:malformed-request"
    assert client.get(f"/api/v1/issues/{issue_id}").json()["version"] == created.json()["version"]


def test_transition_needs_required_fields(web):
    client = web.client("agent")
    created = create(web, client)
    issue_id = created.json()["id"]
    url = f"/api/v1/issues/{issue_id}/transitions"

    allowed = client.get(url).json()
    without = client.post(url, json={"transition": "resolve"}, headers=web.headers(client, **{"If-Match": created.headers["etag"]}))
    resolved = client.post(
        url,
        json={"transition": "resolve", "fields": {"resolution": "更换了硒鼓"}, "comment": "已处理"},
        headers=web.headers(client, **{"If-Match": created.headers["etag"]}),
    )

    assert {t["key"] for t in allowed} >= {"start", "resolve"}
    assert next(t for t in allowed if t["key"] == "resolve")["required_fields"] == ["resolution"]
    assert without.status_code == 422
    assert "resolution" in without.json()["detail"]
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["custom_fields"]["resolution"] == "更换了硒鼓"


def test_assign_and_unassign(web):
    client = web.client("agent")
    created = create(web, client)
    issue_id = created.json()["id"]

    assigned = client.put(
        f"/api/v1/issues/{issue_id}/assignee", json={"assignee": "agent2"}, headers=web.headers(client, **{"If-Match": created.headers["etag"]})
    )
    unassigned = client.put(
        f"/api/v1/issues/{issue_id}/assignee", json={"assignee": None}, headers=web.headers(client, **{"If-Match": assigned.headers["etag"]})
    )
    to_reporter = client.put(
        f"/api/v1/issues/{issue_id}/assignee", json={"assignee": "reporter"}, headers=web.headers(client, **{"If-Match": "*"})
    )

    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee"] == "agent2"
    assert unassigned.json()["assignee"] is None
    assert to_reporter.status_code == 422


def test_comments_public_and_internal(web):
    agent = web.client("agent")
    issue_id = create(web, agent, reporter="reporter").json()["id"]
    url = f"/api/v1/issues/{issue_id}/comments"

    public = agent.post(url, json={"body": "请重启打印机"}, headers=web.headers(agent))
    internal = agent.post(url, json={"body": "硒鼓库存不足", "visibility": "internal"}, headers=web.headers(agent))
    bad = agent.post(url, json={"body": "x", "visibility": "secret"}, headers=web.headers(agent))
    empty = agent.post(url, json={"body": "   "}, headers=web.headers(agent))

    assert public.status_code == 201, public.text
    assert internal.json()["visibility"] == "internal"
    assert bad.status_code == 422
    assert empty.status_code == 422
    assert [c["body"] for c in agent.get(url).json()] == ["请重启打印机", "硒鼓库存不足"]
    reporter = web.client("reporter")
    assert [c["body"] for c in reporter.get(url).json()] == ["请重启打印机"]


def test_links_and_history(web):
    client = web.client("agent")
    first = create(web, client, title="A").json()["id"]
    second = create(web, client, title="B").json()["id"]

    linked = client.post(f"/api/v1/issues/{first}/links", json={"target_id": second, "type": "duplicate_of"}, headers=web.headers(client))
    bad_type = client.post(f"/api/v1/issues/{first}/links", json={"target_id": second, "type": "friend_of"}, headers=web.headers(client))
    history = client.get(f"/api/v1/issues/{first}/history").json()

    assert linked.status_code == 201, linked.text
    assert client.get(f"/api/v1/issues/{first}/links").json()[0]["target_id"] == second
    assert bad_type.status_code == 422
    assert [event["type"] for event in history] == ["issue.created", "issue.linked"]


def test_html_in_title_escaped_in_pages(web):
    client = web.client("agent")
    title = '<script>alert("x")</script><b>粗体</b>'
    issue = create(web, client, title=title, description="<img src=x onerror=alert(1)> **重要**").json()

    page = client.get(f"/issues/{issue['id']}")

    assert issue["title"] == title
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "onerror" not in page.text.replace("onerror=alert(1)&gt;", "")
    assert "<strong>重要</strong>" in page.text


def test_error_detail_follows_language(web):
    client = web.client("agent")

    chinese = client.get("/api/v1/issues/999999")
    english = client.get("/api/v1/issues/999999", headers={"Accept-Language": "en"})

    assert chinese.status_code == english.status_code == 404
    assert chinese.json()["type"] == english.json()["type"] == "urn:wenti:problem:not-found"
    assert "不存在" in chinese.json()["detail"]
    assert english.json()["detail"] == "Issue 999999 does not exist."


@pytest.mark.parametrize("body", [[], "text", 42])
def test_non_object_body_is_rejected(web, body):
    client = web.client("agent")

    response = client.post("/api/v1/issues", json=body, headers=web.headers(client))

    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
