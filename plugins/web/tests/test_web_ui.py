"""Server-rendered pages: login redirect, lists, the issue page and its forms, admin pages."""

from __future__ import annotations

import re

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def new_issue(web, client, **fields):
    data = {"csrf_token": web.csrf(client), "queue": "general", "title": "打印机卡纸", "description": "", "priority": "normal", **fields}
    return client.post("/issues/new", data=data, files={"file": ("", b"", "application/octet-stream")}, follow_redirects=False)


def test_pages_need_login(web):
    client = web.new_client()

    response = client.get("/issues?queue=general", follow_redirects=False)

    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2Fissues%3Fqueue%3Dgeneral"


def test_login_redirect_stays_local(web):
    client = web.new_client()
    client.get("/login")
    csrf = client.cookies.get("wenti_login_csrf")

    response = client.post(
        "/login",
        data={"username": "agent", "password": web.password, "csrf_token": csrf, "tenant": "default", "next": "//evil.example/"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_home_shows_my_open_work(web):
    agent = web.client("agent")

    response = agent.get("/")

    assert response.status_code == 200
    assert "我的工作" in response.text
    assert 'value="me" selected' in response.text


def test_create_issue_with_attachment_and_see_it(web):
    client = web.client("reporter")
    data = {"csrf_token": web.csrf(client), "queue": "general", "title": "会议室投影仪不亮", "description": "**很急**", "priority": "high"}

    created = client.post("/issues/new", data=data, files={"file": ("投影仪.png", PNG, "image/png")}, follow_redirects=False)
    page = client.get(created.headers["location"])

    assert created.status_code == 303, created.text
    assert "会议室投影仪不亮" in page.text
    assert "<strong>很急</strong>" in page.text
    assert "投影仪.png" in page.text
    assert "内部备注" not in page.text


def test_bad_attachment_keeps_form_and_stores_no_issue(web):
    client = web.client("reporter")
    data = {"csrf_token": web.csrf(client), "queue": "general", "title": "带病毒的附件", "priority": "normal"}

    response = client.post("/issues/new", data=data, files={"file": ("x.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/octet-stream")})

    assert response.status_code == 415
    assert "带病毒的附件" in response.text
    assert web.client("agent").get("/api/v1/issues").json()["items"] == []


def test_issue_page_actions(web):
    agent = web.client("agent")
    location = new_issue(web, agent, title="硬盘报警").headers["location"]
    issue_id = int(location.rsplit("/", 1)[1])

    def version():
        return re.search(r'name="version" value="(\d+)"', agent.get(location).text).group(1)

    comment = agent.post(f"/issues/{issue_id}/comments", data={"csrf_token": web.csrf(agent), "body": "已更换硬盘", "visibility": "internal"}, follow_redirects=False)
    assign = agent.post(f"/issues/{issue_id}/assign", data={"csrf_token": web.csrf(agent), "version": version(), "assignee": "agent"}, follow_redirects=False)
    missing = agent.post(f"/issues/{issue_id}/transition", data={"csrf_token": web.csrf(agent), "version": version(), "transition": "resolve"})
    resolve = agent.post(
        f"/issues/{issue_id}/transition",
        data={"csrf_token": web.csrf(agent), "version": version(), "transition": "resolve", "field_resolution": "已修复"},
        follow_redirects=False,
    )
    stale = agent.post(f"/issues/{issue_id}/assign", data={"csrf_token": web.csrf(agent), "version": "1", "assignee": ""})
    page = agent.get(location).text

    assert comment.status_code == assign.status_code == resolve.status_code == 303
    assert missing.status_code == 422
    assert "resolution" in missing.text
    assert stale.status_code == 412
    assert "已更换硬盘" in page
    assert "内部备注" in page
    assert 'data-testid="issue-status">已解决' in page


def test_list_filters_counts_and_saved_views(web):
    agent = web.client("agent")
    new_issue(web, agent, title="紧急问题", priority="critical")
    new_issue(web, agent, title="普通问题")

    critical = agent.get("/issues", params={"priority": "critical"})
    saved = agent.post("/views", data={"csrf_token": web.csrf(agent), "name": "紧急", "query": "priority=critical"}, follow_redirects=False)
    listing = agent.get("/issues")

    assert "紧急问题" in critical.text
    assert "普通问题" not in critical.text
    assert 'data-testid="queue-count-general">2<' in listing.text
    assert saved.status_code == 303
    assert 'href="/issues?priority=critical">紧急</a>' in listing.text


def test_english_is_selectable_per_user(web):
    client = web.client("agent")

    client.post("/settings/language", data={"csrf_token": web.csrf(client), "locale": "en"})
    english = client.get("/issues").text
    other = web.client("agent2").get("/issues").text

    assert "My work" in english
    assert "我的工作" in other


def test_admin_pages_by_role(web):
    admin = web.client("admin")
    agent = web.client("agent")

    for path in ("/admin/users", "/admin/queues", "/admin/plugins", "/admin/outbox"):
        assert admin.get(path).status_code == 200, path
    assert agent.get("/admin/users").status_code == 403
    assert "web" in admin.get("/admin/plugins").text


def test_admin_creates_user_with_password(web):
    admin = web.client("admin")

    response = admin.post(
        "/admin/users",
        data={"csrf_token": web.csrf(admin), "username": "zhaoliu", "display_name": "赵六", "role": "agent", "password": "一个足够长的密码"},
        follow_redirects=False,
    )
    weak = admin.post("/admin/users", data={"csrf_token": web.csrf(admin), "username": "weak", "role": "agent", "password": "123456"})

    assert response.status_code == 303
    assert web.sign_in(web.new_client(), "zhaoliu", "一个足够长的密码").status_code == 303
    assert weak.status_code == 400
    assert "weak" not in admin.get("/admin/users").text.split("添加用户")[0]


def test_static_files_and_security_headers(web):
    client = web.new_client()

    css = client.get("/static/wenti.css")
    login = client.get("/login")

    assert css.status_code == 200
    assert "default-src 'self'" in login.headers["content-security-policy"]
    assert "http" not in re.sub(r"https?://127\.0\.0\.1", "", login.text.split("<body>")[0])


def test_openapi_schema_and_offline_docs(web):
    client = web.new_client()

    schema = client.get("/api/schema/openapi.json").json()
    docs = client.get("/api/schema")

    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/issues" in schema["paths"]
    assert "IssueOut" in schema["components"]["schemas"]
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    assert "/static/api-docs.js" in docs.text
