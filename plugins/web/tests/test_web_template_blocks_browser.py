"""Template blocks at 375 px in headless Chromium, against uvicorn on 127.0.0.1.

The server and browser fixtures repeat those of test_web_browser.py, because the
tests run with `--import-mode=importlib` and cannot import another test module.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup
from wenti import hookimpl
from wenti.records import TemplateBlock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
PHONE_WIDTH = 375

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None and not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed; .ci/setup-browser.sh installs it",
)


class WideBlocksPlugin:
    """Puts content wider than a phone into every slot: a wide table and a long word."""

    @hookimpl
    def web_template_blocks(self, slot: str) -> list[TemplateBlock]:
        table = Markup('<table><tr>{}</tr></table>').format(
            Markup("").join(Markup("<td>列{}宽内容宽内容</td>").format(index) for index in range(30))
        )
        word = Markup("<p>{}</p>").format("x" * 300)
        return [
            TemplateBlock(key="wide-table", html=table, order=1),
            TemplateBlock(key="long-word", html=word, order=2),
        ]


@pytest.fixture
def live_server(web):
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


def test_web_template_blocks_phone_width(live_server, browser, web, register_plugin):
    register_plugin(WideBlocksPlugin(), name="wide", host=web.app.plugins)
    client = web.client("agent")
    client.post("/api/v1/issues", json={"title": "打印机卡纸"}, headers=web.headers(client))
    page: Any = browser.new_page(viewport={"width": PHONE_WIDTH, "height": 800}, locale="zh-CN")
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", web.password)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/issues*")

    for path in ("/issues", "/issues/1", "/issues/new"):
        page.goto(live_server + path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        block_count = page.locator('[data-block="wide-table"]').count()
        boxes = page.evaluate(
            "Array.from(document.querySelectorAll('.plugin-block')).map(b => {"
            " const r = b.getBoundingClientRect();"
            " return {slot: b.dataset.slot, left: Math.round(r.left), top: r.top, bottom: r.bottom}; })"
        )
        assert block_count >= 2, f"{path} shows {block_count} wide-table blocks"
        assert scroll_width <= PHONE_WIDTH, f"{path} is {scroll_width} px wide"
        for slot in {box["slot"] for box in boxes}:
            in_slot = [box for box in boxes if box["slot"] == slot]
            # Stacked: one left edge, and each block starts below the one before it.
            assert len({box["left"] for box in in_slot}) == 1, f"{path} {slot}: {in_slot}"
            assert all(later["top"] >= earlier["bottom"] for earlier, later in zip(in_slot, in_slot[1:])), f"{path} {slot}: {in_slot}"
    page.close()
