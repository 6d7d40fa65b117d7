"""Tests of the example plugin, written the way a plugin author tests with wenti.testing."""

from __future__ import annotations

import wenti_hello

from wenti.i18n import use_locale


def test_select_queue_routes_by_keyword(make_wenti_app):
    app = make_wenti_app(
        config_toml='[plugins.hello]\nroutes = { "打印机" = "printers" }\n',
        plugins=[(wenti_hello, "hello")],
        # Only the storage plugin among the installed ones, so other plugins' hooks stay out.
        enabled_plugins=["sql"],
    )
    admin = app.context("default", "admin")
    app.admin.create_queue(admin, "printers", "打印机")

    routed = app.issues.create(admin, title="三楼打印机卡纸")
    other = app.issues.create(admin, title="网络断了")

    assert routed.queue == "printers"
    assert other.queue != "printers"


def test_messages_translated():
    with use_locale("zh_CN"):
        assert wenti_hello._("Hello from wenti-hello.") == "wenti-hello 向您问好。"
    with use_locale("en"):
        assert wenti_hello._("Hello from wenti-hello.") == "Hello from wenti-hello."
