"""Template blocks: HTML that plugins add to fixed slots of the web pages."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from markupsafe import Markup
from wenti import hookimpl
from wenti.domain import Role
from wenti.records import TemplateBlock

SLOTS = ("base.footer", "issue.sidebar", "issue.after_description", "issue_list.top", "issue_new.form_end")


class SlotPlugin:
    """Fills every slot with a block that names the slot and what `page` held."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    @hookimpl
    def web_template_blocks(self, slot: str, page: dict[str, Any], ctx: Any) -> list[TemplateBlock]:
        self.calls.append((slot, ctx.user.username))
        if slot in ("issue.sidebar", "issue.after_description"):
            detail = page["issue"].key
        elif slot == "issue_list.top":
            detail = f"{page['total']} listed"
        elif slot == "issue_new.form_end":
            detail = ",".join(queue.key for queue in page["queues"])
        else:
            detail = page["path"]
        return [TemplateBlock(key="probe", html=Markup('<p class="probe">{}: {}</p>').format(slot, detail))]


class ScriptPlugin:
    @hookimpl
    def web_template_blocks(self, slot: str) -> list[TemplateBlock]:
        if slot != "issue.after_description":
            return []
        return [TemplateBlock(key="plain", html="<script>alert('plain')</script>")]


class FakeHtml(str):
    """A plain string that claims to be safe HTML the way Jinja2 checks it."""

    def __html__(self) -> str:
        return str(self)


class FakeHtmlPlugin:
    @hookimpl
    def web_template_blocks(self, slot: str) -> list[TemplateBlock]:
        if slot != "issue.sidebar":
            return []
        return [TemplateBlock(key="fake", html=FakeHtml("<script>alert('fake')</script>"))]


class FailingPlugin:
    @hookimpl
    def web_template_blocks(self, slot: str) -> list[TemplateBlock]:
        raise RuntimeError("block service unavailable")


class WrongRecordPlugin:
    @hookimpl
    def web_template_blocks(self, slot: str) -> list[Any]:
        return [
            {"key": "dict", "html": "not a record"},
            TemplateBlock(key="bytes", html=b"<b>bytes</b>"),
            TemplateBlock(key="text-order", html="order as text", order="1"),  # type: ignore[arg-type]
        ]


class OrderedPlugin:
    def __init__(self, label: str, order: int) -> None:
        self.label = label
        self.order = order

    @hookimpl
    def web_template_blocks(self, slot: str) -> list[TemplateBlock]:
        if slot != "issue.sidebar":
            return []
        return [TemplateBlock(key="ordered", html=Markup("<p>{}</p>").format(self.label), order=self.order)]


class StaffOnlyPlugin:
    """Shows an internal panel to agents and a public note to everyone."""

    @hookimpl
    def web_template_blocks(self, slot: str, ctx: Any) -> list[TemplateBlock]:
        if slot != "issue.sidebar":
            return []
        blocks = [TemplateBlock(key="public", html=Markup("<p>公开提示</p>"))]
        if ctx.user.role.includes(Role.AGENT):
            blocks.append(TemplateBlock(key="internal", html=Markup("<p>内部面板</p>")))
        return blocks


def _create_issue(web: Any, reporter: str = "reporter") -> int:
    agent = web.client("agent")
    response = agent.post(
        "/api/v1/issues", json={"title": "打印机卡纸", "reporter": reporter}, headers=web.headers(agent)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _block_keys(html: str, slot: str) -> list[str]:
    return re.findall(rf'data-slot="{re.escape(slot)}" data-plugin="[^"]*" data-block="([^"]*)"', html)


def test_web_template_blocks_in_every_slot(web, register_plugin):
    plugin = register_plugin(SlotPlugin(), name="slots", host=web.app.plugins)
    issue_id = _create_issue(web)
    agent = web.client("agent")

    issue_page = agent.get(f"/issues/{issue_id}")
    list_page = agent.get("/issues")
    new_page = agent.get("/issues/new")

    assert issue_page.status_code == 200
    assert list_page.status_code == 200
    assert new_page.status_code == 200
    key = web.app.issues.get(web.app.context("default", "agent"), issue_id).key
    assert f'<p class="probe">issue.sidebar: {key}</p>' in issue_page.text
    assert f'<p class="probe">issue.after_description: {key}</p>' in issue_page.text
    assert '<p class="probe">issue_list.top: 1 listed</p>' in list_page.text
    assert '<p class="probe">issue_new.form_end: general' in new_page.text
    assert f'<p class="probe">base.footer: /issues/{issue_id}</p>' in issue_page.text
    assert '<p class="probe">base.footer: /issues</p>' in list_page.text
    assert '<p class="probe">base.footer: /issues/new</p>' in new_page.text
    assert {slot for slot, _user in plugin.calls} == set(SLOTS)


def test_web_template_blocks_positions_in_pages(web, register_plugin):
    register_plugin(SlotPlugin(), name="slots", host=web.app.plugins)
    issue_id = _create_issue(web)
    agent = web.client("agent")

    issue_html = agent.get(f"/issues/{issue_id}").text
    new_html = agent.get("/issues/new").text

    # The after-description block sits between the description and the comments, and the sidebar block opens the sidebar.
    assert issue_html.index("card description") < issue_html.index("issue.after_description:") < issue_html.index('data-testid="comments"')
    assert issue_html.index('<aside class="issue-side">') < issue_html.index("issue.sidebar:") < issue_html.index("</aside>")
    assert issue_html.index("</main>") < issue_html.index("base.footer:")
    # Inside the form, so a block may add fields, and before the submit button.
    form_start = new_html.index('id="new-issue-form"')
    form = new_html[form_start : new_html.index("</form>", form_start)]
    assert "issue_new.form_end:" in form
    assert form.index("issue_new.form_end:") < form.index('type="submit"')


def test_web_template_blocks_escape_plain_strings(web, register_plugin):
    register_plugin(ScriptPlugin(), name="script", host=web.app.plugins)
    register_plugin(FakeHtmlPlugin(), name="fake", host=web.app.plugins)
    issue_id = _create_issue(web)

    html = web.client("agent").get(f"/issues/{issue_id}").text

    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#39;plain&#39;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;fake&#39;)&lt;/script&gt;" in html


def test_web_template_blocks_failing_plugin_logged(web, register_plugin, caplog):
    register_plugin(FailingPlugin(), name="broken_blocks", host=web.app.plugins)
    register_plugin(WrongRecordPlugin(), name="wrong_blocks", host=web.app.plugins)
    register_plugin(SlotPlugin(), name="slots", host=web.app.plugins)
    issue_id = _create_issue(web)

    with caplog.at_level(logging.WARNING, logger="wenti.hooks"):
        response = web.client("agent").get(f"/issues/{issue_id}")

    assert response.status_code == 200
    assert "issue.sidebar:" in response.text
    assert "not a record" not in response.text
    assert "order as text" not in response.text
    failures = [r for r in caplog.records if "broken_blocks failed in web_template_blocks" in r.getMessage()]
    assert failures
    assert failures[0].exc_info is not None
    dropped = [r.getMessage() for r in caplog.records if "plugin wrong_blocks returned" in r.getMessage()]
    assert len([m for m in dropped if "issue.sidebar" in m]) == 3


def test_web_template_blocks_sorted_by_order_then_plugin(web, register_plugin):
    register_plugin(OrderedPlugin("第三", 20), name="a_late", host=web.app.plugins)
    register_plugin(OrderedPlugin("第二", 10), name="b_plugin", host=web.app.plugins)
    register_plugin(OrderedPlugin("第一", 10), name="a_plugin", host=web.app.plugins)
    issue_id = _create_issue(web)

    html = web.client("agent").get(f"/issues/{issue_id}").text

    assert html.index("<p>第一</p>") < html.index("<p>第二</p>") < html.index("<p>第三</p>")
    assert re.findall(r'data-slot="issue.sidebar" data-plugin="([^"]*)"', html) == ["a_plugin", "b_plugin", "a_late"]


def test_web_template_blocks_by_role(web, register_plugin):
    register_plugin(StaffOnlyPlugin(), name="staff", host=web.app.plugins)
    issue_id = _create_issue(web, reporter="reporter")

    agent_html = web.client("agent").get(f"/issues/{issue_id}").text
    reporter_response = web.client("reporter").get(f"/issues/{issue_id}")

    assert reporter_response.status_code == 200
    assert _block_keys(agent_html, "issue.sidebar") == ["public", "internal"]
    assert _block_keys(reporter_response.text, "issue.sidebar") == ["public"]
    assert "内部面板" not in reporter_response.text


def test_web_template_blocks_not_on_anonymous_pages(web, register_plugin):
    plugin = register_plugin(SlotPlugin(), name="slots", host=web.app.plugins)

    response = web.new_client().get("/login")

    assert response.status_code == 200
    assert "plugin-block" not in response.text
    assert plugin.calls == []


def test_web_template_blocks_none_without_plugins(web):
    issue_id = _create_issue(web)

    html = web.client("agent").get(f"/issues/{issue_id}").text

    assert "plugin-block" not in html
    assert "<footer" not in html


def test_web_template_blocks_facade_stamps_plugin(wenti_app, register_plugin):
    register_plugin(OrderedPlugin("b", 5), name="second", host=wenti_app.plugins)
    register_plugin(FailingPlugin(), name="broken", host=wenti_app.plugins)
    register_plugin(OrderedPlugin("a", 5), name="first", host=wenti_app.plugins)
    ctx = wenti_app.context("default", "agent")

    blocks = wenti_app.hooks.web_template_blocks("issue.sidebar", {}, ctx, wenti_app)
    other_slot = wenti_app.hooks.web_template_blocks("base.footer", {"path": "/"}, ctx, wenti_app)

    assert [(block.plugin, block.html) for block in blocks] == [("first", "<p>a</p>"), ("second", "<p>b</p>")]
    assert all(isinstance(block.html, Markup) for block in blocks)
    assert other_slot == []


@pytest.mark.parametrize("slot", SLOTS)
def test_web_template_blocks_slots_documented(slot):
    from pathlib import Path

    from wenti import hookspecs

    docs = (Path(__file__).resolve().parents[3] / "docs" / "plugin-hooks.md").read_text(encoding="utf-8")

    assert f"`{slot}`" in (hookspecs.web_template_blocks.__doc__ or "")
    assert f"`{slot}`" in docs
