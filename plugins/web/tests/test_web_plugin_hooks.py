"""Hooks the web app calls: routes, badges, list filters, suggestions and similar issues."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import get
from wenti import hookimpl
from wenti.domain import Role
from wenti.records import IssueBadge, IssueFilter, Suggestion, WebNavEntry, WebRoute

from wenti_web import accounts
from wenti_web.server import create_app


@get("/hello-plugin", include_in_schema=False)
async def hello_plugin() -> str:
    return "你好，插件"


class ExtraPlugin:
    @hookimpl
    def register_web_routes(self, app: Any) -> list[WebRoute]:
        return [WebRoute(name="hello", handler=hello_plugin)]

    @hookimpl
    def web_nav_entries(self, ctx: Any) -> list[WebNavEntry]:
        entries = [WebNavEntry(label="插件页面", path="/hello-plugin", order=5), WebNavEntry(label="外站", path="//evil.example/")]
        if ctx.user.role.includes(Role.AGENT):
            entries.append(WebNavEntry(label="员工专用", path="/hello-plugin?staff=1", order=1))
        return entries

    @hookimpl
    def issue_badges(self, issues: list[Any], ctx: Any, app: Any) -> list[IssueBadge]:
        return [IssueBadge(issue_id=issue.id, name="test.flag", label="测试徽章", tone="warning", detail="徽章说明") for issue in issues]

    @hookimpl
    def register_issue_filters(self) -> list[IssueFilter]:
        def match(app: Any, ctx: Any, value: Any) -> list[int]:
            page = app.issues.list(ctx, __import__("wenti.store", fromlist=["IssueQuery"]).IssueQuery(text="紧急"))
            return [issue.id for issue in page.items]

        return [IssueFilter(name="urgent_words", label="Urgent words", match=match)]

    @hookimpl
    def classify_issue(self, issue: Any, app: Any) -> list[Suggestion]:
        return [Suggestion(field="category", value="hardware", confidence=0.87, explanation="打印机")]

    @hookimpl
    def similar_issues(self, issue: Any, app: Any, limit: int) -> list[dict[str, Any]]:
        return [{"kind": "issue", "id": 1, "title": "旧问题", "score": 0.9}, {"kind": "issue", "id": 999, "title": "看不见", "score": 0.8}]


@pytest.fixture
def extra_web(make_wenti_app, request):
    from importlib.metadata import entry_points

    def plugin(name):
        (entry_point,) = entry_points(group="wenti", name=name)
        return entry_point.load()

    app = make_wenti_app(installed_plugins=False, plugins=[(plugin("sql"), "sql"), (plugin("web"), "web"), (ExtraPlugin(), "extra")])
    for username in ("admin", "agent", "reporter"):
        accounts.set_password(app, "default", username, "correct horse 电池 staple")
    helper = request.getfixturevalue("web").__class__(app, create_app(app))
    helper._opened = []
    return helper


def test_plugin_route_is_mounted(extra_web):
    response = extra_web.new_client().get("/hello-plugin")

    assert response.status_code == 200
    assert response.text == "你好，插件"


def test_badges_and_filters_in_list_and_page(extra_web):
    agent = extra_web.client("agent")
    headers = extra_web.headers(agent)
    agent.post("/api/v1/issues", json={"title": "紧急：服务器宕机"}, headers=headers)
    agent.post("/api/v1/issues", json={"title": "普通咨询"}, headers=headers)

    listing = agent.get("/issues")
    filtered = agent.get("/issues", params={"filter_urgent_words": "1"})
    page = agent.get("/issues/1")

    assert listing.text.count("测试徽章") == 2
    # The page's Content-Security-Policy blocks inline styles, so tones are CSS classes.
    assert 'class="badge tone-warning"' in listing.text
    assert 'style="background' not in listing.text
    assert "Urgent words" in listing.text
    assert "紧急：服务器宕机" in filtered.text
    assert "普通咨询" not in filtered.text
    assert "徽章说明" in page.text


def test_suggestions_show_only_visible_similar_issues(extra_web):
    agent = extra_web.client("agent")
    agent.post("/api/v1/issues", json={"title": "旧问题", "reporter": "reporter"}, headers=extra_web.headers(agent))
    reporter = extra_web.client("reporter")

    response = reporter.post("/issues/suggestions", data={"csrf_token": extra_web.csrf(reporter), "title": "打印机坏了", "queue": "general"})

    body = response.json()
    assert response.status_code == 200
    assert body["suggestions"][0]["value"] == "hardware"
    assert body["suggestions"][0]["confidence"] == 0.87
    assert [item["id"] for item in body["similar"]] == [1]


def test_suggestions_empty_without_plugins(web):
    client = web.client("agent")

    response = client.post("/issues/suggestions", data={"csrf_token": web.csrf(client), "title": "打印机坏了"})

    assert response.json() == {"suggestions": [], "similar": []}


def test_web_nav_entries_by_role_and_local_only(extra_web):
    agent_page = extra_web.client("agent").get("/issues").text
    reporter_page = extra_web.client("reporter").get("/issues").text

    assert "插件页面" in agent_page
    assert "员工专用" in agent_page
    assert agent_page.index("员工专用") < agent_page.index("插件页面")
    assert "插件页面" in reporter_page
    assert "员工专用" not in reporter_page
    assert "evil.example" not in agent_page


def test_register_issue_filters_in_list_api(extra_web):
    agent = extra_web.client("agent")
    headers = extra_web.headers(agent)
    agent.post("/api/v1/issues", json={"title": "紧急：网络中断"}, headers=headers)
    agent.post("/api/v1/issues", json={"title": "普通咨询"}, headers=headers)

    filtered = agent.get("/api/v1/issues", params={"filter": "urgent_words"})
    unknown = agent.get("/api/v1/issues", params={"filter": "nope"})

    assert [item["title"] for item in filtered.json()["items"]] == ["紧急：网络中断"]
    assert unknown.status_code == 422
    assert "urgent_words" in unknown.json()["detail"]
