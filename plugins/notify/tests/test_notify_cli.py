"""`wenti notify ...` as a user runs it: issue keys, translated help, the bare group."""

from __future__ import annotations

from wenti.cli.testing import invoke_cli
from wenti_notify.service import service_for


def two_queue_app(make_wenti_app):
    """Build an app with queues `general` and `cs` and one issue in each."""
    app = make_wenti_app(config_toml="[plugins.jobs]\nautostart = false\n")
    admin = app.context("default", "admin")
    app.admin.create_queue(admin, "cs", "客服")
    first = app.issues.create(admin, queue="general", title="打印机卡纸")
    second = app.issues.create(admin, queue="cs", title="发票抬头错误")
    return app, first, second


def test_watch_follows_issue_key(make_wenti_app):
    app, first, second = two_queue_app(make_wenti_app)
    agent = app.context("default", "agent")

    by_key = invoke_cli(app, "notify", "watch", second.key, user="agent")
    by_number = invoke_cli(app, "notify", "watch", str(first.id), user="agent")

    assert by_key.exit_code == 0, by_key.output
    assert f"You now watch issue {second.key}." in by_key.output
    assert by_number.exit_code == 0, by_number.output
    assert "agent" in service_for(app).watchers(agent, second.id)
    assert "agent" in service_for(app).watchers(agent, first.id)


def test_watch_rejects_other_queue_key(make_wenti_app):
    app, first, _second = two_queue_app(make_wenti_app)
    agent = app.context("default", "agent")
    wrong = f"CS-{first.id}"

    english = invoke_cli(app, "notify", "watch", wrong, user="agent")
    chinese = invoke_cli(app, "notify", "watch", wrong, user="agent", lang="zh_CN")

    assert english.exit_code == 3
    assert f"Issue {wrong} does not exist; issue {first.id} is {first.key}." in english.output
    assert chinese.exit_code == 3
    assert f"问题 {wrong} 不存在；编号 {first.id} 对应的是 {first.key}。" in chinese.output
    assert "agent" not in service_for(app).watchers(agent, first.id)


def test_watch_rejects_invalid_key(make_wenti_app):
    app, _first, _second = two_queue_app(make_wenti_app)

    invalid = invoke_cli(app, "notify", "watch", "CS-x", user="agent")
    missing = invoke_cli(app, "notify", "watch", "999", user="agent")

    assert invalid.exit_code == 2
    assert "'CS-x' is not an issue key or number" in invalid.output
    assert missing.exit_code == 3


def test_bare_group_prints_help(make_wenti_app):
    app, _first, _second = two_queue_app(make_wenti_app)

    result = invoke_cli(app, "notify", lang="zh_CN")

    assert result.exit_code == 0, result.output
    assert "错误" not in result.output
    assert "通知投递：列出投递记录、重试死信、立即发送到期的通知。" in result.output
    assert "关注问题，接收其公开变更的通知（加 --stop 取消关注）。" in result.output


def test_option_help_is_chinese(make_wenti_app):
    app, _first, _second = two_queue_app(make_wenti_app)

    result = invoke_cli(app, "notify", "deliveries", "--help", lang="zh_CN")

    assert result.exit_code == 0, result.output
    assert "只显示此状态的投递。" in result.output
    assert "最多显示的行数（默认：50）。" in result.output
    assert "Show only" not in result.output


def test_core_error_is_chinese(make_wenti_app):
    app, _first, _second = two_queue_app(make_wenti_app)

    result = invoke_cli(app, "notify", "watch", "999", user="agent", lang="zh_CN")

    assert result.exit_code == 3
    assert "错误：问题 999 不存在。" in result.output
