"""`wenti sla ...` as a user runs it: issue keys, translated help, the bare group."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from wenti.cli.testing import invoke_cli

SHANGHAI = ZoneInfo("Asia/Shanghai")


def two_queue_app(make_wenti_app, frozen_clock):
    """Build an app with queues `general` and `cs` and one issue in each (GENERAL-1, CS-2)."""
    frozen_clock.set(datetime(2025, 3, 4, 10, tzinfo=SHANGHAI))
    app = make_wenti_app(config_toml='[plugins.jobs]\nautostart = false\n\n[plugins.sla]\npreset = "standard"\n')
    admin = app.context("default", "admin")
    app.admin.create_queue(admin, "cs", "客服")
    first = app.issues.create(admin, queue="general", title="打印机卡纸")
    second = app.issues.create(admin, queue="cs", title="发票抬头错误")
    while app.outbox.dispatch_pending():
        pass
    return app, first, second


def test_explain_follows_issue_key(make_wenti_app, frozen_clock):
    app, first, second = two_queue_app(make_wenti_app, frozen_clock)

    by_key = invoke_cli(app, "sla", "explain", second.key)
    by_number = invoke_cli(app, "sla", "explain", str(first.id))

    assert by_key.exit_code == 0, by_key.output
    assert second.key in by_key.output
    assert first.key not in by_key.output
    assert by_number.exit_code == 0, by_number.output
    assert first.key in by_number.output


def test_explain_rejects_other_queue_key(make_wenti_app, frozen_clock):
    app, first, _second = two_queue_app(make_wenti_app, frozen_clock)
    wrong = f"CS-{first.id}"

    english = invoke_cli(app, "sla", "explain", wrong)
    chinese = invoke_cli(app, "sla", "explain", wrong, lang="zh_CN")

    assert english.exit_code == 3
    assert f"Issue {wrong} does not exist; issue {first.id} is {first.key}." in english.output
    assert chinese.exit_code == 3
    assert f"问题 {wrong} 不存在；编号 {first.id} 对应的是 {first.key}。" in chinese.output


def test_explain_rejects_invalid_key(make_wenti_app, frozen_clock):
    app, _first, _second = two_queue_app(make_wenti_app, frozen_clock)

    result = invoke_cli(app, "sla", "explain", "CS_1x")

    assert result.exit_code == 2
    assert "'CS_1x' is not an issue id or key" in result.output


def test_bare_group_prints_help(make_wenti_app, frozen_clock):
    app, _first, _second = two_queue_app(make_wenti_app, frozen_clock)

    result = invoke_cli(app, "sla", lang="zh_CN")

    assert result.exit_code == 0, result.output
    assert "错误" not in result.output
    assert "解释并重新计算服务级别 SLA 计时。" in result.output
    assert "显示一个问题的 SLA 到期时间是如何算出的。" in result.output


def test_check_names_issue_key_and_metric(make_wenti_app, frozen_clock):
    app, _first, second = two_queue_app(make_wenti_app, frozen_clock)
    frozen_clock.set(datetime(2025, 3, 14, 10, tzinfo=SHANGHAI))

    result = invoke_cli(app, "sla", "check", lang="zh_CN")

    assert result.exit_code == 0, result.output
    assert f"问题 {second.key}：解决超时" in result.output
    assert "resolution" not in result.output
