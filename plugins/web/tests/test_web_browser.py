"""The whole day's work in headless Chromium (Debian's build, driven by Playwright).

Runs against uvicorn on 127.0.0.1 at desktop width and at 375 px; screenshots go to
`test-artifacts/` at the repository root.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed; .ci/setup-browser.sh installs it",
)


@pytest.fixture
def live_server(web):
    """The web app under uvicorn on a free loopback port, stopped after the test."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(web.asgi, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start within 10 s"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.mark.parametrize(("width", "label"), [(1280, "desktop"), (375, "phone")])
def test_day_of_work_in_chinese(live_server, browser, tmp_path, width, label):
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = lambda name: page.screenshot(path=str(ARTIFACTS / f"web-{label}-{name}.png"), full_page=True)  # noqa: E731
    attachment = tmp_path / "打印机故障.png"
    attachment.write_bytes(PNG)
    page = browser.new_page(viewport={"width": width, "height": 800}, locale="zh-CN")

    page.goto(live_server + "/login")
    assert page.locator("h1").inner_text() == "登录问题管理系统"
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", "correct horse 电池 staple")
    screenshot("1-login")
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/issues*")

    page.goto(live_server + "/issues/new")
    page.fill("input[name=title]", "三楼打印机<b>卡纸</b>")
    page.fill("textarea[name=description]", "每打印一张就卡住。\n\n**很急**")
    page.select_option("select[name=priority]", "high")
    page.set_input_files("input[name=file]", str(attachment))
    screenshot("2-new-issue")
    page.click("#new-issue-form button[type=submit]")
    page.wait_for_url(live_server + "/issues/*")
    assert page.get_by_test_id("issue-title").inner_text() == "三楼打印机<b>卡纸</b>"
    assert "打印机故障.png" in page.get_by_test_id("attachments").inner_text()

    page.fill("textarea[name=body]", "已联系供应商更换硒鼓。")
    page.click("form[action$='/comments'] button[type=submit]")
    page.wait_for_load_state()
    assert "已联系供应商更换硒鼓。" in page.get_by_test_id("comments").inner_text()

    page.get_by_test_id("transition-start").locator("button").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("issue-status").inner_text() == "处理中"
    resolve = page.get_by_test_id("transition-resolve")
    resolve.locator("textarea").fill("更换硒鼓后正常。")
    resolve.locator("button").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("issue-status").inner_text() == "已解决"
    screenshot("3-resolved")

    if width < 760:
        page.click(".nav-toggle")
    page.get_by_test_id("logout").click()
    page.wait_for_url(live_server + "/login*")
    assert page.locator("input[name=username]").is_visible()
    page.goto(live_server + "/issues")
    assert "/login" in page.url
    page.close()


def test_phone_width_has_no_horizontal_scroll(live_server, browser, web):
    client = web.client("agent")
    client.post("/api/v1/issues", json={"title": "很长的标题" * 20}, headers=web.headers(client))
    page = browser.new_page(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", "correct horse 电池 staple")
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/issues*")

    for path in ("/issues", "/issues/1", "/issues/new", "/settings"):
        page.goto(live_server + path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 375, f"{path} is {scroll_width} px wide"
    page.screenshot(path=str(ARTIFACTS / "web-phone-settings.png"), full_page=True)
    page.close()
