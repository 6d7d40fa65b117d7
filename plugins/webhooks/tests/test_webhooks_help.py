"""Help of `wenti webhooks` in both languages, and the group run without a subcommand."""

from __future__ import annotations

from wenti.cli.testing import invoke_cli


def test_bare_group_prints_help(make_wenti_app):
    app = make_wenti_app(config_toml="[plugins.jobs]\nautostart = false\n")

    result = invoke_cli(app, "webhooks", lang="zh_CN")

    assert result.exit_code == 0, result.output
    assert "错误" not in result.output
    assert "外发 Webhook：端点、投递日志和重新投递。" in result.output
    assert "停止向一个端点发送。" in result.output


def test_log_help_in_both_languages(make_wenti_app):
    app = make_wenti_app(config_toml="[plugins.jobs]\nautostart = false\n")

    chinese = invoke_cli(app, "webhooks", "log", "--help", lang="zh_CN")
    english = invoke_cli(app, "webhooks", "log", "--help", lang="en")

    assert chinese.exit_code == 0, chinese.output
    assert "最多显示的行数（默认：50）。" in chinese.output
    assert "Maximum rows" not in chinese.output
    assert english.exit_code == 0, english.output
    assert "Maximum rows to show (default: 50)." in english.output


def test_unknown_endpoint_error_is_chinese(make_wenti_app):
    app = make_wenti_app(config_toml="[plugins.jobs]\nautostart = false\n")

    result = invoke_cli(app, "webhooks", "enable", "nosuch", lang="zh_CN")

    assert result.exit_code == 3
    assert "错误：Webhook 端点 nosuch 未配置" in result.output
