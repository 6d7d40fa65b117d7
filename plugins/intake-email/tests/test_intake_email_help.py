"""`wenti intake` help in both languages, the bare group, and translated input errors."""

from __future__ import annotations

from wenti.cli.testing import invoke_cli

CONFIG = "[plugins.jobs]\nautostart = false\n"


def test_bare_group_prints_help(make_wenti_app):
    app = make_wenti_app(config_toml=CONFIG)

    result = invoke_cli(app, "intake", lang="zh_CN")

    assert result.exit_code == 0, result.output
    assert "错误" not in result.output
    assert "邮件收件：轮询邮箱、导入邮件文件夹、查看隔离的邮件。" in result.output
    assert "列出无法收取的邮件，最新的在前。" in result.output


def test_quarantine_help_in_both_languages(make_wenti_app):
    app = make_wenti_app(config_toml=CONFIG)

    chinese = invoke_cli(app, "intake", "quarantine", "--help", lang="zh_CN")
    english = invoke_cli(app, "intake", "quarantine", "--help", lang="en")

    assert chinese.exit_code == 0, chinese.output
    assert "最多显示的行数（默认：50）。" in chinese.output
    assert english.exit_code == 0, english.output
    assert "Maximum rows to show (default: 50)." in english.output


def test_import_rejects_plain_folder(make_wenti_app, tmp_path):
    app = make_wenti_app(config_toml=CONFIG)
    folder = tmp_path / "not-maildir"
    folder.mkdir()

    result = invoke_cli(app, "intake", "import", str(folder), lang="zh_CN")

    assert result.exit_code == 1
    assert f"{folder} 是文件夹但不是 Maildir（其中没有 cur/ 或 new/）" in result.output


def test_poll_without_imap_names_table(make_wenti_app):
    app = make_wenti_app(config_toml=CONFIG)

    result = invoke_cli(app, "intake", "poll", lang="en")

    assert result.exit_code == 1
    assert "No [plugins.intake-email.imap] table is configured" in result.output
