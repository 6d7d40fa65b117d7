"""`wenti issue ...` against a real app on SQLite: output, filters, paging and rejected changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from wenti.cli.testing import invoke_cli
from wenti.store import IssueQuery

# Only the SQL storage plugin, so these tests do not depend on other plugins.
SQL_ONLY = '[plugins]\nenabled = ["sql"]\n'


@pytest.fixture
def cli_app(make_wenti_app):
    return make_wenti_app(config_toml=SQL_ONLY)


def _create(app, title, *extra, user="agent"):
    result = invoke_cli(app, "issue", "create", "--title", title, "--json", *extra, user=user)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_issue_create_and_show(cli_app):
    issue = _create(cli_app, "打印机卡纸", "--priority", "high", "--tag", "打印机", "--field", "floor=3")

    result = invoke_cli(cli_app, "issue", "show", f"GENERAL-{issue['id']}", user="agent")

    assert result.exit_code == 0, result.output
    assert "打印机卡纸" in result.stdout
    assert "floor: 3" in result.stdout
    assert "high" in result.stdout
    # FROZEN_TIME is 01:00 UTC, so the tenant (Asia/Shanghai) sees 09:00.
    assert "2026-03-02 09:00" in result.stdout
    assert "resolve (Resolve)" in result.stdout


def test_issue_show_in_chinese(cli_app):
    issue = _create(cli_app, "网络中断")

    result = invoke_cli(cli_app, "issue", "show", str(issue["id"]), user="agent", lang="zh_CN")

    assert result.exit_code == 0, result.output
    assert "状态: 新建 (new)" in result.stdout
    assert "优先级: 普通" in result.stdout


def test_issue_list_filters_and_json(cli_app, frozen_clock):
    _create(cli_app, "旧问题", "--priority", "low")
    frozen_clock.advance(days=3)
    _create(cli_app, "新问题", "--priority", "critical")

    by_priority = invoke_cli(cli_app, "issue", "list", "--priority", "critical", "--json", user="agent")
    by_date = invoke_cli(cli_app, "issue", "list", "--created-to", "2026-03-03", "--json", user="agent")
    table = invoke_cli(cli_app, "issue", "list", user="agent")

    assert [item["title"] for item in json.loads(by_priority.stdout)["issues"]] == ["新问题"]
    assert [item["title"] for item in json.loads(by_date.stdout)["issues"]] == ["旧问题"]
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["Key", "Status", "Priority", "Title", "Assignee", "Created"]
    assert "新问题" in lines[2]
    assert "旧问题" in lines[3]


def test_issue_list_pages_with_cursor(cli_app, frozen_clock):
    for number in range(5):
        frozen_clock.advance(minutes=1)
        _create(cli_app, f"问题 {number}")

    first = json.loads(invoke_cli(cli_app, "issue", "list", "--limit", "2", "--json", user="agent").stdout)
    second = json.loads(
        invoke_cli(cli_app, "issue", "list", "--limit", "2", "--cursor", first["next_cursor"], "--json", user="agent").stdout
    )

    assert [item["title"] for item in first["issues"]] == ["问题 4", "问题 3"]
    assert [item["title"] for item in second["issues"]] == ["问题 2", "问题 1"]
    assert second["next_cursor"]


def test_issue_list_rejects_unknown_sort_field(cli_app):
    result = invoke_cli(cli_app, "issue", "list", "--sort", "-colour", user="agent")

    assert result.exit_code == 2
    assert "colour" in result.stderr


def test_issue_update_transition_and_comment(cli_app):
    issue = _create(cli_app, "邮箱收不到邮件")
    key = f"GENERAL-{issue['id']}"

    updated = invoke_cli(cli_app, "issue", "update", key, "--priority", "high", "--assignee", "agent", user="agent")
    started = invoke_cli(cli_app, "issue", "transition", key, "start", user="agent")
    commented = invoke_cli(cli_app, "issue", "comment", key, "已查明原因", "--internal", user="agent")
    resolved = invoke_cli(
        cli_app, "issue", "transition", key, "resolve", "--field", "resolution=清理了邮箱规则", "--comment", "已修复", user="agent"
    )

    for result in (updated, started, commented, resolved):
        assert result.exit_code == 0, result.output
    stored = cli_app.issues.get(cli_app.context("default", "agent"), issue["id"])
    assert stored.priority.value == "high"
    assert stored.assignee == "agent"
    assert stored.status == "resolved"
    assert stored.custom_fields["resolution"] == "清理了邮箱规则"
    comments = cli_app.issues.comments(cli_app.context("default", "agent"), issue["id"])
    assert [(c.body, c.visibility.value) for c in comments] == [("已查明原因", "internal"), ("已修复", "public")]


def _snapshot(app, issue_id):
    ctx = app.context("default", "admin")
    issue = app.issues.get(ctx, issue_id)
    return issue.status, issue.version, issue.priority, len(app.issues.history(ctx, issue_id))


def test_transition_not_allowed_changes_nothing(cli_app):
    issue = _create(cli_app, "无法开机")
    before = _snapshot(cli_app, issue["id"])

    result = invoke_cli(cli_app, "issue", "transition", str(issue["id"]), "close", user="agent", lang="zh_CN")

    assert result.exit_code == 1
    assert "状态 new 下不允许流转 'close'" in result.stderr
    assert "resolve" in result.stderr
    assert _snapshot(cli_app, issue["id"]) == before


def test_transition_missing_required_field(cli_app):
    issue = _create(cli_app, "系统报错")
    before = _snapshot(cli_app, issue["id"])

    result = invoke_cli(cli_app, "issue", "transition", str(issue["id"]), "resolve", user="agent", lang="zh_CN")

    assert result.exit_code == 1
    assert "流转 resolve 需要填写这些字段：resolution" in result.stderr
    assert _snapshot(cli_app, issue["id"]) == before


def test_update_with_stale_version_is_a_conflict(cli_app):
    issue = _create(cli_app, "空调不制冷")
    invoke_cli(cli_app, "issue", "update", str(issue["id"]), "--priority", "low", user="agent")
    before = _snapshot(cli_app, issue["id"])

    result = invoke_cli(
        cli_app, "issue", "update", str(issue["id"]), "--priority", "high", "--version", str(issue["version"]), user="agent", lang="zh_CN"
    )

    assert result.exit_code == 5
    assert "已被他人修改" in result.stderr
    assert f"版本 {issue['version']}" in result.stderr
    assert _snapshot(cli_app, issue["id"]) == before


def test_unknown_issue_exits_with_not_found(cli_app):
    result = invoke_cli(cli_app, "issue", "show", "GENERAL-999", user="agent")

    assert result.exit_code == 3
    assert "999" in result.stderr


def test_issue_key_of_other_queue_is_not_found(cli_app):
    issue = _create(cli_app, "门禁失灵")

    result = invoke_cli(cli_app, "issue", "show", f"IT-{issue['id']}", user="agent")

    assert result.exit_code == 3
    assert f"GENERAL-{issue['id']}" in result.stderr


def test_reporter_cannot_write_internal_note(cli_app):
    issue = _create(cli_app, "发票抬头错误", user="reporter")

    result = invoke_cli(cli_app, "issue", "comment", str(issue["id"]), "内部", "--internal", user="reporter")

    assert result.exit_code == 4
    assert cli_app.issues.comments(cli_app.context("default", "admin"), issue["id"]) == []


def test_bad_field_option_is_a_usage_error(cli_app):
    result = invoke_cli(cli_app, "issue", "create", "--title", "x", "--field", "novalue", user="agent")

    assert result.exit_code == 2
    assert "name=value" in result.stderr
    assert cli_app.issues.count(cli_app.context("default", "admin"), IssueQuery()) == 0


def test_created_range_uses_tenant_time_zone(cli_app, frozen_clock):
    # 2026-03-02 17:30 UTC is already 2026-03-03 01:30 in Shanghai.
    frozen_clock.advance(timedelta(hours=16, minutes=30))
    _create(cli_app, "夜间告警")

    on_second = invoke_cli(cli_app, "issue", "list", "--created-to", "2026-03-02", "--json", user="agent")
    on_third = invoke_cli(cli_app, "issue", "list", "--created-from", "2026-03-03", "--json", user="agent")

    assert json.loads(on_second.stdout)["issues"] == []
    assert [item["title"] for item in json.loads(on_third.stdout)["issues"]] == ["夜间告警"]


def test_issue_list_by_text_and_source(cli_app):
    _create(cli_app, "数据库死锁", "-d", "订单表锁等待超时")
    _create(cli_app, "打印机卡纸")

    by_text = invoke_cli(cli_app, "issue", "list", "--text", "锁等待", "--json", user="agent")
    by_source = invoke_cli(cli_app, "issue", "list", "--source", "web", "--json", user="agent")

    assert [item["title"] for item in json.loads(by_text.stdout)["issues"]] == ["数据库死锁"]
    assert json.loads(by_source.stdout)["issues"] == []


def test_json_output_carries_the_key(cli_app):
    issue = _create(cli_app, "键值")

    shown = json.loads(invoke_cli(cli_app, "issue", "show", str(issue["id"]), "--json", user="agent").stdout)
    listed = json.loads(invoke_cli(cli_app, "issue", "list", "--json", user="agent").stdout)

    assert issue["key"] == f"GENERAL-{issue['id']}"
    assert shown["issue"]["key"] == issue["key"]
    assert listed["issues"][0]["key"] == issue["key"]


def test_list_rejects_unknown_status(cli_app):
    result = invoke_cli(cli_app, "issue", "list", "--status", "bogus", user="agent")

    assert result.exit_code == 2, result.output
    assert "--status 'bogus' does not exist in any workflow" in result.stderr
    assert "new" in result.stderr


def test_export_rejects_unknown_status(cli_app):
    result = invoke_cli(cli_app, "export", "--status", "bogus", user="agent")

    assert result.exit_code == 2, result.output
    assert "--status 'bogus' does not exist" in result.stderr


@pytest.mark.parametrize("command", [("issue", "list"), ("export",)])
def test_created_range_backwards_rejected(cli_app, command):
    result = invoke_cli(cli_app, *command, "--created-from", "2026-03-05", "--created-to", "2026-03-01", user="agent")

    assert result.exit_code == 2, result.output
    assert "--created-from 2026-03-05 is after --created-to 2026-03-01" in result.stderr


@pytest.mark.parametrize("version", ["0", "-1"])
def test_update_rejects_version_below_one(cli_app, version):
    issue = _create(cli_app, "打印机卡纸")

    result = invoke_cli(cli_app, "issue", "update", str(issue["id"]), "--title", "新标题", "--version", version, user="agent")

    assert result.exit_code == 2, result.output
    assert "--version" in result.stderr


def test_update_rejects_version_newer_than_issue(cli_app):
    issue = _create(cli_app, "打印机卡纸")

    result = invoke_cli(cli_app, "issue", "update", str(issue["id"]), "--title", "新标题", "--version", "7", user="agent")

    assert result.exit_code == 2, result.output
    assert f"--version 7 is newer than issue {issue['key']}, which is at version 1" in result.stderr


def test_title_with_control_character_rejected(cli_app):
    result = invoke_cli(cli_app, "issue", "create", "--title", "打印\x07机", user="agent")

    assert result.exit_code == 1, result.output
    assert "control character U+0007 at position 3" in result.stderr


def test_not_found_names_the_key(cli_app):
    result = invoke_cli(cli_app, "issue", "show", "general-999", user="agent")

    assert result.exit_code == 3, result.output
    assert "Issue GENERAL-999 does not exist." in result.stderr
