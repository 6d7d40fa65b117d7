"""`wenti import`: encodings, formats, value maps, rejected rows, idempotency and mapping errors."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from wenti.cli.testing import invoke_cli
from wenti.store import IssueQuery

SQL_ONLY = '[plugins]\nenabled = ["sql"]\n'

MAPPING = """
queue = "general"

[source]
timezone = "Asia/Shanghai"
external_id = "编号"
name = "sheet"

[fields]
title = "标题"
description = "描述"
priority = "优先级"
created_at = "创建时间"
resolved_at = "解决时间"
status = "状态"
custom.unit = "单位"

[values.priority]
map = { "紧急" = "critical", "高" = "high", "中" = "normal", "低" = "low" }
default = "normal"

[values.status]
map = { "新建" = "new", "已解决" = "resolved" }
default = "new"
"""

HEADER = ["编号", "标题", "描述", "优先级", "创建时间", "解决时间", "状态", "单位"]
ROWS = [
    ["A-1", "数据库表空间满", "告警：表空间使用率 99%\n需要扩容", "紧急", "2016-06-06 15:10:00", "2016-06-06 18:10:00", "已解决", "辽宁"],
    ["A-2", "打印机卡纸", "3 号楼", "低", "2016-06-07 09:00:00", "", "新建", "华东分公司"],
    ["A-3", "优先级不认识", "", "P0", "2016-06-07 10:00:00", "", "新建", ""],
    ["A-4", "时间写错了", "", "中", "六月七日", "", "新建", ""],
    ["A-5", "", "没有标题", "中", "2016-06-07 11:00:00", "", "新建", ""],
]


@pytest.fixture
def cli_app(make_wenti_app):
    return make_wenti_app(config_toml=SQL_ONLY)


@pytest.fixture
def mapping_file(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def _write_csv(path: Path, rows, encoding: str) -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _issues(app):
    return app.issues.list(app.context("default", "admin"), IssueQuery(sort=("id",), limit=100)).items


def test_import_keeps_good_rows_and_rejects_bad_ones(cli_app, tmp_path, mapping_file):
    source = _write_csv(tmp_path / "issues.csv", ROWS, "utf-8")
    rejects = tmp_path / "rejects.csv"

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), "--rejects", str(rejects), user="agent")

    assert result.exit_code == 1, result.output
    assert "Read 5 rows: 2 imported, 0 skipped as already imported, 3 rejected." in result.stdout
    assert "Rejected row 4: unknown priority 'P0'" in result.stderr
    assert "Rejected row 5: created_at '六月七日' is not a time" in result.stderr
    assert "Rejected row 6: the title is empty (from '标题'). Fill in the title" in result.stderr
    issues = _issues(cli_app)
    assert [issue.external_id for issue in issues] == ["A-1", "A-2"]
    first = issues[0]
    assert first.description == "告警：表空间使用率 99%\n需要扩容"
    assert first.priority.value == "critical"
    assert first.status == "resolved"
    assert first.custom_fields == {"unit": "辽宁"}
    assert first.created_at == datetime(2016, 6, 6, 7, 10, tzinfo=timezone.utc)
    assert first.resolved_at == datetime(2016, 6, 6, 10, 10, tzinfo=timezone.utc)
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert [row["row"] for row in rejected] == ["4", "5", "6"]
    assert [row["编号"] for row in rejected] == ["A-3", "A-4", "A-5"]
    assert "P0" in rejected[0]["reason"]


def test_bad_rejects_path_fails_before_import(cli_app, tmp_path, mapping_file):
    source = _write_csv(tmp_path / "issues.csv", ROWS, "utf-8")
    rejects = tmp_path / "no-such-folder" / "rejects.csv"

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), "--rejects", str(rejects), user="agent")

    assert result.exit_code == 2, result.output
    assert f"--rejects {rejects}: the folder {rejects.parent} does not exist" in result.stderr
    assert _issues(cli_app) == []


@pytest.mark.parametrize("target", ["source", "mapping"])
def test_rejects_path_may_not_replace_inputs(cli_app, tmp_path, mapping_file, target):
    source = _write_csv(tmp_path / "issues.csv", ROWS, "utf-8")
    protected = source if target == "source" else mapping_file
    before = protected.read_bytes()
    # Another spelling of the same path, as a person might type it.
    rejects = tmp_path / "." / protected.name

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), "--rejects", str(rejects), user="agent")

    assert result.exit_code == 2, result.output
    assert f"--rejects {rejects} is the" in result.stderr
    assert "writing the rejected rows would replace it" in result.stderr
    assert protected.read_bytes() == before
    assert _issues(cli_app) == []


def test_second_import_adds_nothing(cli_app, tmp_path, mapping_file):
    source = _write_csv(tmp_path / "issues.csv", ROWS[:2], "utf-8")

    first = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent")
    second = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "2 imported, 0 skipped" in first.stdout
    assert "0 imported, 2 skipped" in second.stdout
    assert len(_issues(cli_app)) == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_import_reads_utf8_bom_and_gb18030(cli_app, tmp_path, mapping_file, encoding):
    # 𠀀 (U+20000) needs GB18030's four-byte form; GBK has no code for it.
    rows = [["G-1", "数据库死锁𠀀", "表空间满，内存溢出", "高", "2017-01-02 08:00:00", "", "新建", "河南"]]
    source = _write_csv(tmp_path / f"issues-{encoding}.csv", rows, encoding)

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent")

    assert result.exit_code == 0, result.output
    [issue] = _issues(cli_app)
    assert issue.title == "数据库死锁𠀀"
    assert issue.description == "表空间满，内存溢出"
    assert issue.external_id == "G-1"


def test_file_in_unexpected_encoding_is_rejected(cli_app, tmp_path, mapping_file):
    # UTF-16 without a byte-order mark: "auto" recognises UTF-16 only by its mark.
    source = _write_csv(tmp_path / "issues-utf16.csv", ROWS[:2], "utf-16-le")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent", lang="zh_CN")

    assert result.exit_code == 1
    assert "issues-utf16.csv" in result.stderr
    assert "既不是 UTF-8（偏移" in result.stderr
    assert 'encoding = "..."' in result.stderr
    assert _issues(cli_app) == []


def test_wrong_stated_encoding_names_offset(cli_app, tmp_path):
    mapping = tmp_path / "latin.toml"
    mapping.write_text(MAPPING.replace("[source]", '[source]\nencoding = "ascii"'), encoding="utf-8")
    source = _write_csv(tmp_path / "issues.csv", ROWS[:1], "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), user="agent")

    assert result.exit_code == 1
    assert "the byte at offset 0 is not valid ascii" in result.stderr
    assert _issues(cli_app) == []


def test_mapping_with_unknown_key_is_rejected(cli_app, tmp_path):
    mapping = tmp_path / "typo.toml"
    mapping.write_text(MAPPING.replace('priority = "优先级"', 'priorty = "优先级"'), encoding="utf-8")
    source = _write_csv(tmp_path / "issues.csv", ROWS[:2], "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), user="agent", lang="zh_CN")

    assert result.exit_code == 2
    assert "typo.toml：[fields] 中有未知的键 priorty" in result.stderr
    assert "priority" in result.stderr
    assert _issues(cli_app) == []


def test_mapping_naming_missing_column_is_rejected(cli_app, tmp_path):
    mapping = tmp_path / "columns.toml"
    mapping.write_text(MAPPING.replace('description = "描述"', 'description = "详细描述"'), encoding="utf-8")
    source = _write_csv(tmp_path / "issues.csv", ROWS[:2], "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), user="agent")

    assert result.exit_code == 1
    assert "详细描述" in result.stderr
    assert _issues(cli_app) == []


def test_mapping_without_timezone_is_rejected(cli_app, tmp_path):
    mapping = tmp_path / "nozone.toml"
    mapping.write_text(MAPPING.replace('timezone = "Asia/Shanghai"\n', ""), encoding="utf-8")
    source = _write_csv(tmp_path / "issues.csv", ROWS[:1], "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), user="agent")

    assert result.exit_code == 2
    assert "timezone is missing" in result.stderr


def test_dry_run_writes_nothing(cli_app, tmp_path, mapping_file):
    source = _write_csv(tmp_path / "issues.csv", ROWS, "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), "--dry-run", user="agent")

    assert "Dry run, nothing was written." in result.stdout
    assert "Read 5 rows: 2 imported, 0 skipped as already imported, 3 rejected." in result.stdout
    assert _issues(cli_app) == []


def test_import_xlsx(cli_app, tmp_path, mapping_file):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["X-1", "电梯困人", "2 号电梯", "紧急", datetime(2017, 5, 1, 9, 30), None, "新建", "北京"])
    sheet.append([2, "数字编号", "", "低", "2017-05-02 10:00:00", None, "新建", None])
    source = tmp_path / "issues.xlsx"
    workbook.save(source)

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent")

    assert result.exit_code == 0, result.output
    issues = _issues(cli_app)
    assert [issue.external_id for issue in issues] == ["X-1", "2"]
    assert issues[0].created_at == datetime(2017, 5, 1, 1, 30, tzinfo=timezone.utc)
    assert issues[0].priority.value == "critical"


def test_import_json_lines(cli_app, tmp_path, mapping_file):
    records = [
        {"编号": "J-1", "标题": "VPN 断线", "描述": "每半小时断一次\u2028第二段", "优先级": "高", "创建时间": "2017-03-01T08:00:00+08:00"},
        {"编号": "J-2", "标题": "邮箱满了", "优先级": "不存在"},
    ]
    source = tmp_path / "issues.jsonl"
    source.write_text("\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n", encoding="utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent")

    assert result.exit_code == 1
    assert "Read 2 rows: 1 imported" in result.stdout
    assert "Rejected row 2" in result.stderr
    [issue] = _issues(cli_app)
    assert issue.description == "每半小时断一次\u2028第二段"
    assert issue.created_at == datetime(2017, 3, 1, 0, 0, tzinfo=timezone.utc)


def test_queue_option_overrides_mapping(cli_app, tmp_path, mapping_file):
    source = _write_csv(tmp_path / "issues.csv", ROWS[:1], "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), "--queue", "nosuchqueue", user="agent")

    assert result.exit_code == 3
    assert "nosuchqueue" in result.stderr
    assert _issues(cli_app) == []


def test_reporter_may_not_import(cli_app, tmp_path, mapping_file):
    source = _write_csv(tmp_path / "issues.csv", ROWS[:1], "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="reporter")

    assert result.exit_code == 4
    assert _issues(cli_app) == []


@pytest.mark.parametrize("dry_run", [False, True])
def test_repeated_id_in_one_file_counts_once(cli_app, tmp_path, mapping_file, dry_run):
    source = _write_csv(tmp_path / "issues.csv", [ROWS[0], ROWS[1], ROWS[0]], "utf-8")
    options = ["--dry-run"] if dry_run else []

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), "--batch-size", "1", *options, user="agent")

    assert result.exit_code == 0, result.output
    assert "Read 3 rows: 2 imported, 1 skipped as already imported, 0 rejected." in result.stdout
    assert len(_issues(cli_app)) == (0 if dry_run else 2)


def test_rejected_rows_are_reported_in_chinese(cli_app, tmp_path, mapping_file):
    source = _write_csv(tmp_path / "issues.csv", ROWS[2:4], "gb18030")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent", lang="zh_CN")

    assert result.exit_code == 1
    assert "拒绝第 2 行：未知的 priority 值 'P0'。" in result.stderr
    assert "拒绝第 3 行：created_at 的值 '六月七日' 不是可识别格式的时间" in result.stderr
    assert "共读取 2 行：导入 0 行，0 行已导入过而跳过，拒绝 2 行。" in result.stdout
    assert _issues(cli_app) == []


def test_missing_queue_fails_before_any_row(cli_app, tmp_path):
    mapping = tmp_path / "it.toml"
    mapping.write_text(MAPPING.replace('queue = "general"', 'queue = "it"'), encoding="utf-8")
    source = _write_csv(tmp_path / "issues.csv", ROWS, "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), user="admin")

    assert result.exit_code == 3, result.output
    assert "Queue 'it'" in result.stderr
    assert "does not exist in tenant default" in result.stderr
    assert "--queue general" in result.stderr
    assert "wenti queue create it" in result.stderr
    assert "Rejected row" not in result.stderr
    assert "Importing" not in result.stderr
    assert _issues(cli_app) == []


def test_missing_queue_option_fails(cli_app, tmp_path, mapping_file):
    source = _write_csv(tmp_path / "issues.csv", ROWS, "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), "--queue", "nosuch", user="admin")

    assert result.exit_code == 3, result.output
    assert "Queue 'nosuch' (from --queue)" in result.stderr


def test_status_target_missing_from_workflow(cli_app, tmp_path):
    mapping = tmp_path / "status.toml"
    mapping.write_text(MAPPING.replace('"已解决" = "resolved"', '"已解决" = "finished"'), encoding="utf-8")
    source = _write_csv(tmp_path / "issues.csv", ROWS, "utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), user="admin")

    assert result.exit_code != 0, result.output
    assert "[values.status] maps to status 'finished'" in result.stderr
    assert "queue general" in result.stderr
    assert _issues(cli_app) == []


def test_import_into_created_queue(cli_app, tmp_path):
    mapping = tmp_path / "it.toml"
    mapping.write_text(MAPPING.replace('queue = "general"', 'queue = "it"'), encoding="utf-8")
    source = _write_csv(tmp_path / "issues.csv", ROWS[:2], "utf-8")

    created = invoke_cli(cli_app, "queue", "create", "it", "--name", "IT", user="admin")
    again = invoke_cli(cli_app, "queue", "create", "it", user="admin")
    listed = invoke_cli(cli_app, "queue", "list", "--json", user="admin")
    imported = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), user="admin")

    assert created.exit_code == 0, created.output
    assert "Created queue it (IT)." in created.stdout
    assert again.exit_code == 5
    assert "Queue it already exists" in again.stderr
    assert [queue["key"] for queue in json.loads(listed.stdout)] == ["general", "it"]
    assert imported.exit_code == 0, imported.output
    assert {issue.queue for issue in _issues(cli_app)} == {"it"}


def test_agent_may_not_create_queue(cli_app):
    result = invoke_cli(cli_app, "queue", "create", "it", user="agent")

    assert result.exit_code == 4, result.output


def test_json_list_title_rejected_control_characters_dropped(cli_app, tmp_path, mapping_file):
    records = [
        {"编号": "J-1", "标题": ["list title"]},
        {"编号": "J-2", "标题": "响铃\x07字符"},
        {"编号": "J-3", "标题": "制表\t符"},
    ]
    source = tmp_path / "issues.jsonl"
    source.write_text("\n".join(json.dumps(record, ensure_ascii=False) for record in records) + "\n", encoding="utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent")

    assert result.exit_code == 1, result.output
    assert "Read 3 rows: 2 imported" in result.stdout
    assert "row 1: the title in '标题' is a JSON list, not text" in result.stderr
    assert [issue.title for issue in _issues(cli_app)] == ["响铃字符", "制表 符"]


def test_missing_source_file_is_not_found(cli_app, tmp_path, mapping_file):
    result = invoke_cli(cli_app, "import", str(tmp_path / "nope.csv"), "--mapping", str(mapping_file), user="agent")

    assert result.exit_code == 3, result.output
    assert "nope.csv: no such file." in result.stderr


def test_bad_json_line_rejected_others_imported(cli_app, tmp_path, mapping_file):
    lines = [
        json.dumps({"编号": "J-1", "标题": "VPN 断线"}, ensure_ascii=False),
        '{"编号": "J-2", "标题": ',
        "[1, 2]",
        json.dumps({"编号": "J-4", "标题": "邮箱满了"}, ensure_ascii=False),
    ]
    source = tmp_path / "issues.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), "--rejects", str(rejects), user="agent")

    assert result.exit_code == 1, result.output
    assert "Read 4 rows: 2 imported, 0 skipped as already imported, 2 rejected." in result.stdout
    assert "row 2: not valid JSON" in result.stderr
    assert "row 3: holds a JSON list, not an object" in result.stderr
    assert [issue.external_id for issue in _issues(cli_app)] == ["J-1", "J-4"]
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        assert [row["row"] for row in csv.DictReader(handle)] == ["2", "3"]


def test_ragged_csv_rows_rejected(cli_app, tmp_path, mapping_file):
    source = tmp_path / "ragged.csv"
    text = ",".join(HEADER) + "\n"
    text += "A-1,打印机卡纸,3 号楼,低,2016-06-07 09:00:00,,新建,华东\n"
    text += "A-2,多了一格,描述,低,2016-06-07 09:00:00,,新建,华东,多余\n"
    text += "A-3,少了几格,描述\n"
    text += "A-4,末尾逗号,描述,低,2016-06-07 09:00:00,,新建,华东,,\n"
    source.write_text(text, encoding="utf-8")

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping_file), user="agent")

    assert result.exit_code == 1, result.output
    assert "Read 4 rows: 2 imported" in result.stdout
    assert "row 3: has 9 cells but the header has 8 columns" in result.stderr
    assert "row 4: has 3 cells but the header has 8 columns" in result.stderr
    assert [issue.external_id for issue in _issues(cli_app)] == ["A-1", "A-4"]


def test_big5_file_read_as_gb18030_names_encoding(cli_app, tmp_path):
    mapping = tmp_path / "big5.toml"
    mapping.write_text('queue = "general"\n[source]\nexternal_id = "編號"\n[fields]\ntitle = "標題"\n', encoding="utf-8")
    source = tmp_path / "big5.csv"
    source.write_bytes("編號,標題\nT-1,印表機卡紙\n".encode("big5"))

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), user="agent")

    assert result.exit_code == 1, result.output
    assert "decodes as GB18030, but the character at byte offset" in result.stderr
    assert 'encoding = "big5"' in result.stderr
    assert _issues(cli_app) == []


def test_rejects_file_keeps_source_reason_column(cli_app, tmp_path):
    mapping = tmp_path / "reason.toml"
    mapping.write_text('queue = "general"\n[source]\nexternal_id = "编号"\n[fields]\ntitle = "标题"\n', encoding="utf-8")
    source = tmp_path / "closed.csv"
    source.write_text("编号,标题,row,reason\nK-1,,7,重复提交\nK-2,打印机卡纸,8,已修复\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    result = invoke_cli(cli_app, "import", str(source), "--mapping", str(mapping), "--rejects", str(rejects), user="agent")

    assert result.exit_code == 1, result.output
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["_row", "_reason", "编号", "标题", "row", "reason"]
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert [row["_row"] for row in rejected] == ["2"]
    assert rejected[0]["reason"] == "重复提交"
    assert "the title is empty" in rejected[0]["_reason"]
