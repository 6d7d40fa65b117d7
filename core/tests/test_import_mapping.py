"""Mapping files and the row mapper without a database: checks, templates, value maps, times."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from wenti.i18n import core
from wenti.importing import MappingError, RowMapper, RowRejected, decode_text, parse_mapping
from wenti.importing.readers import SourceFileError, SourceRow
from wenti.importing.transform import first_sentence, render_template, row_fingerprint

BASE = {"queue": "it", "source": {"timezone": "Asia/Shanghai"}, "fields": {"title": "标题"}}


def _mapping(**changes):
    document = {key: dict(value) if isinstance(value, dict) else value for key, value in BASE.items()}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key].update(value)
        else:
            document[key] = value
    return parse_mapping(document, "m.toml")


def _row(number=2, **values):
    return SourceRow(number=number, values={"标题": "打印机卡纸", **values})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"fields": {"title": "标题", "colour": "x"}}, "unknown key colour in [fields]"),
        ({"source": {"timezone": "Asia/Shanghai", "encodnig": "gbk"}}, "Did you mean: encoding?"),
        ({"source": {"timezone": "Mars/Base"}}, "[source] timezone = 'Mars/Base' is invalid"),
        ({"source": {"encoding": "no-such-codec"}}, "[source] encoding = 'no-such-codec' is invalid"),
        ({"source": {"format": "xls"}}, "[source] format = 'xls' is invalid; expected csv, xlsx, jsonl"),
        ({"source": {"delimiter": ";;"}}, "[source] delimiter = ';;' is invalid"),
        ({"fields": {"title": {"column": "a", "template": "{b}"}}}, "exactly one of column, columns, template or value"),
        ({"fields": {"title": {"column": "a", "extract": "last_word"}}}, "title.extract = 'last_word' is invalid"),
        ({"fields": {"title": {"column": "a", "max_length": 0}}}, "title.max_length = 0 is invalid"),
        ({"values": {"priority": {"map": {"A": "high"}, "unknown": "drop"}}}, "unknown = 'drop' is invalid"),
        ({"values": {"priority": {"map": {"A": "high"}, "unknown": "default"}}}, "also set default"),
        ({"values": {"priority": {"map": {"A": 1}}}}, "both strings"),
        ({"values": {"tags": {"map": {}}}}, "unknown key tags in [values]"),
        ({"queue": ""}, "[top level] queue = '' is invalid"),
        ({"values": {"priority": {"map": {"高": "urgent"}}}}, "[values.priority] 高 = 'urgent' is invalid; expected critical, high, normal, low"),
        ({"values": {"priority": {"map": {"高": "high"}, "default": "medium"}}}, "[values.priority] default = 'medium' is invalid"),
        ({"values": {"priority": {"map": {}, "other": "p1"}}}, "[values.priority] other = 'p1' is invalid"),
    ],
)
def test_invalid_mapping_names_the_problem(changes, expected):
    with pytest.raises(MappingError) as caught:
        _mapping(**changes)

    message = caught.value.translated(core.translations("en").gettext)
    assert message.startswith("m.toml: ")
    assert expected in message


def test_mapping_error_translates_expected_text():
    with pytest.raises(MappingError) as caught:
        _mapping(source={"timezone": "Asia/Shanghai", "delimiter": ""})

    chinese = caught.value.translated(core.translations("zh_CN").gettext)

    assert "[source] delimiter = '' 无效" in chinese
    assert "非空字符串" in chinese


def test_mapping_needs_a_title():
    with pytest.raises(MappingError) as caught:
        parse_mapping({"queue": "it", "fields": {"description": "描述"}}, "m.toml")

    assert "[fields] has no title" in str(caught.value)


def test_times_need_a_stated_zone():
    with pytest.raises(MappingError) as caught:
        parse_mapping({"fields": {"title": "t", "created_at": "c"}}, "m.toml")

    assert "timezone is missing" in str(caught.value)


def test_first_sentence_rules():
    assert first_sentence("系统告警。随后恢复。") == "系统告警。"
    assert first_sentence("Disk full! Clean it.") == "Disk full!"
    assert first_sentence("Version 2.7.3 fails. Details") == "Version 2.7.3 fails."
    assert first_sentence("第一行\n第二行") == "第一行"
    assert first_sentence("原因：配置错误；已修复") == "原因：配置错误"
    assert first_sentence("  没有标点  ") == "没有标点"


def test_template_placeholders_and_braces():
    values = {"摘要": "网络中断", "编号": 7}

    assert render_template("{摘要}（{编号}）", values) == "网络中断（7）"
    assert render_template("{{literal}} {missing}", values) == "{literal} "


def test_value_map_policies():
    mapper = RowMapper(
        _mapping(
            fields={"title": "标题", "priority": "p", "status": "s", "category": "c"},
            values={
                "priority": {"map": {"高": "high"}, "default": "normal", "unknown": "default"},
                "status": {"map": {"关闭": "closed"}, "default": "new", "other": "resolved"},
                "category": {"map": {"NET": "网络"}, "unknown": "keep", "ignore_case": True},
            },
        )
    )

    empty = mapper.map_row(_row(p="", s="", c=""))
    known = mapper.map_row(_row(p="高", s="关闭", c="net"))
    unknown = mapper.map_row(_row(p="超高", s="2024-01-01", c="打印"))

    assert (empty["priority"], empty["status"], empty.get("category")) == ("normal", "new", None)
    assert (known["priority"], known["status"], known["category"]) == ("high", "closed", "网络")
    assert (unknown["priority"], unknown["status"], unknown["category"]) == ("normal", "resolved", "打印")


def test_unknown_value_rejects_row_with_known_values():
    mapper = RowMapper(_mapping(fields={"title": "标题", "priority": "p"}, values={"priority": {"map": {"高": "high", "低": "low"}}}))

    with pytest.raises(RowRejected) as caught:
        mapper.map_row(_row(number=9, p="P0"))

    message = str(caught.value)
    assert message.startswith("row 9: unknown priority 'P0'")
    assert "Known values: 低, 高" in message


def test_times_convert_from_stated_zone():
    mapper = RowMapper(
        _mapping(fields={"title": "标题", "created_at": "c", "resolved_at": {"column": "r", "format": "%d/%m/%Y %H:%M"}})
    )

    result = mapper.map_row(_row(c="2016-06-06 15:10:00", r="06/06/2016 18:40"))
    with_offset = mapper.map_row(_row(c="2016-06-06T15:10:00+00:00", r=""))

    assert result["created_at"] == datetime(2016, 6, 6, 7, 10, tzinfo=timezone.utc)
    assert result["resolved_at"] == datetime(2016, 6, 6, 10, 40, tzinfo=timezone.utc)
    assert with_offset["created_at"] == datetime(2016, 6, 6, 15, 10, tzinfo=timezone.utc)
    assert with_offset["resolved_at"] is None


def test_resolved_before_created_is_rejected():
    mapper = RowMapper(_mapping(fields={"title": "标题", "created_at": "c", "resolved_at": "r"}))

    with pytest.raises(RowRejected) as caught:
        mapper.map_row(_row(number=4, c="2016-06-06 15:10", r="2016-06-05 15:10"))

    assert "row 4: resolved_at" in str(caught.value)


def test_external_id_from_column_or_fingerprint():
    with_column = RowMapper(_mapping(source={"timezone": "UTC", "external_id": "id"}))
    without = RowMapper(_mapping())

    assert with_column.map_row(_row(id=" 42 "))["external_id"] == "42"
    with pytest.raises(RowRejected):
        with_column.map_row(_row(id=""))
    first = without.map_row(_row(extra="a"))["external_id"]
    assert first == without.map_row(_row(extra="a"))["external_id"]
    assert first != without.map_row(_row(extra="b"))["external_id"]
    assert first == row_fingerprint(_row(extra="a"))


def test_title_keeps_spaces_but_not_line_breaks():
    mapper = RowMapper(_mapping())

    assert mapper.map_row(_row(标题="  A  B\r\nC  "))["title"] == "A  B C"


def test_title_cut_to_max_length():
    mapper = RowMapper(_mapping(fields={"title": {"column": "标题", "max_length": 5}}))

    assert mapper.map_row(_row(标题="一二三四五六七"))["title"] == "一二三四…"


def test_custom_fields_and_prefix():
    mapper = RowMapper(_mapping(fields={"title": "标题", "custom": {"unit": "单位"}, "custom_prefix": "custom."}))

    result = mapper.map_row(_row(单位="辽宁", **{"custom.system": "ERP", "custom.empty": ""}))

    assert result["custom_fields"] == {"system": "ERP", "unit": "辽宁"}


def test_decode_text_reports_offsets():
    text, encoding = decode_text("编号\n".encode("gb18030"), "f.csv")
    assert (text, encoding) == ("编号\n", "gb18030")
    assert decode_text(b"\xef\xbb\xbfid\n", "f.csv") == ("id\n", "utf-8-sig")

    with pytest.raises(SourceFileError) as caught:
        decode_text(b"ok\xff\xfe", "f.csv")

    assert caught.value.params == {"file": "f.csv", "utf8_offset": 2, "gb_offset": 2}


def test_nested_json_keys_are_reachable_by_path():
    mapper = RowMapper(_mapping(fields={"title": "fields.summary", "priority": "fields.priority.name", "tags": "fields.labels"}, values={"priority": {"map": {"Major": "normal"}}}))
    row = SourceRow(2, {"key": "HADOOP-1", "fields": {"summary": "NPE in FSDownload", "priority": {"name": "Major"}, "labels": ["yarn", "nodemanager"]}})

    result = mapper.map_row(row)

    assert result["title"] == "NPE in FSDownload"
    assert result["priority"] == "normal"
    assert result["tags"] == ["yarn", "nodemanager"]


def test_dotted_key_wins_over_nested_path():
    mapper = RowMapper(_mapping(fields={"title": "custom.title"}))

    assert mapper.map_row(SourceRow(2, {"custom.title": "平铺键", "custom": {"title": "嵌套"}}))["title"] == "平铺键"


def test_damaged_utf8_is_not_read_as_gb18030():
    data = "编号,标题\n".encode() + "数据库表空间满告警处理完成".encode() * 2 + b"\xff\n"

    with pytest.raises(SourceFileError) as caught:
        decode_text(data, "damaged.csv")

    assert caught.value.params == {"file": "damaged.csv", "offset": len(data) - 2}
    assert "looks damaged" in str(caught.value)


def test_value_entries_may_stand_in_the_table():
    mapping = _mapping(fields={"title": "标题", "priority": "p"}, values={"priority": {"Blocker": "critical", "map": {"Minor": "low"}, "default": "normal"}})

    assert mapping.values["priority"].mapping == {"Minor": "low", "Blocker": "critical"}
    assert mapping.values["priority"].default == "normal"


def test_misspelt_value_option_is_rejected():
    with pytest.raises(MappingError) as caught:
        _mapping(values={"priority": {"Blocker": "critical", "defualt": "normal"}})

    assert "unknown key defualt in [values.priority]. Did you mean: default?" in str(caught.value)


def test_priority_targets_accept_case_and_empty():
    mapping = _mapping(fields={"title": "标题", "priority": "p"}, values={"priority": {"map": {"高": "HIGH", "无": ""}}})

    assert mapping.values["priority"].mapping == {"高": "HIGH", "无": ""}


def test_chinese_expected_list_is_spaced():
    with pytest.raises(MappingError) as caught:
        _mapping(values={"priority": {"map": {"A": "high"}, "unknown": "drop"}})

    chinese = caught.value.translated(core.translations("zh_CN").gettext)

    assert "应为 reject, keep, default。" in chinese


@pytest.mark.parametrize("separator", ["\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_title_unicode_line_break_becomes_space(separator):
    mapper = RowMapper(_mapping())

    title = mapper.map_row(_row(标题=f"打印机{separator}卡纸"))["title"]

    assert title == "打印机 卡纸"
    assert len(title.splitlines()) == 1
