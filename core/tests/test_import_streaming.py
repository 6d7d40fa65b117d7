"""Imports read the file batch by batch: encoding checks, row counts, failures before the first write, memory."""

from __future__ import annotations

import codecs
import csv
import json
import tomllib
import tracemalloc
from pathlib import Path

import pytest

from wenti.cli.testing import invoke_cli
from wenti.importing import RejectsFile, SourceFileError, decode_text, detect_encoding, open_source, parse_mapping, read_table, run_import
from wenti.store import IssueQuery

SQL_ONLY = '[plugins]\nenabled = ["sql"]\n'

CHINESE = "数据库表空间满告警需要扩容打印机卡纸三号楼网络中断"

# (label, bytes, encoding setting) for which the chunked check must match decode_text.
SAMPLES = [
    ("ascii", b"id,title\n1,printer\n", "auto"),
    ("utf-8", ("编号,标题\n1," + CHINESE + "\n").encode("utf-8"), "auto"),
    ("utf-8 with BOM", codecs.BOM_UTF8 + ("编号,标题\n1," + CHINESE + "\n").encode("utf-8"), "auto"),
    ("gb18030", ("编号,标题\n1," + CHINESE + "\n").encode("gb18030"), "auto"),
    ("damaged utf-8", ("编号,标题\n1," + CHINESE + "\n").encode("utf-8") + b"\xff" + "尾巴".encode("utf-8"), "auto"),
    ("damaged utf-8 with BOM", codecs.BOM_UTF8 + (CHINESE * 2).encode("utf-8") + b"\xc3(", "auto"),
    ("neither", b"id\n\x81\x30\xff\xfe\x80", "auto"),
    ("utf-8 cut in a character", ("标题\n" + CHINESE).encode("utf-8")[:-1], "auto"),
    ("stated utf-8, is gb18030", ("编号,标题\n1," + CHINESE).encode("gb18030"), "utf-8"),
    ("stated utf-8-sig with BOM, bad byte", codecs.BOM_UTF8 + b"id\n\xff", "utf-8-sig"),
    ("stated big5", "編號,標題\nT-1,印表機卡紙\n".encode("big5"), "big5"),
    ("big5 read as gb18030", "id,title\nT-1,印表機卡紙\n".encode("big5"), "auto"),
    ("big5 stated as gb18030", "id,title\nT-1,印表機卡紙\n".encode("big5"), "gb18030"),
    ("utf-16 little-endian", ("编号,标题\n1," + CHINESE + "\n").encode("utf-16"), "auto"),
    ("utf-16 big-endian", codecs.BOM_UTF16_BE + ("编号,标题\n1," + CHINESE + "\n").encode("utf-16-be"), "auto"),
    ("utf-16 cut in a character", ("编号,标题\n1," + CHINESE).encode("utf-16")[:-1], "auto"),
]


def _outcome(call):
    try:
        return ("ok", call())
    except SourceFileError as error:
        return ("error", error.message_id, error.params)


@pytest.mark.parametrize("label, data, encoding", SAMPLES, ids=[sample[0] for sample in SAMPLES])
@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 1 << 20])
def test_chunked_encoding_check_matches_whole_file(tmp_path: Path, label: str, data: bytes, encoding: str, chunk_bytes: int) -> None:
    path = tmp_path / "source.csv"
    path.write_bytes(data)

    whole = _outcome(lambda: decode_text(data, str(path), encoding)[1])
    chunked = _outcome(lambda: detect_encoding(path, encoding, chunk_bytes=chunk_bytes))

    assert chunked == whole


def test_offsets_count_the_byte_order_mark(tmp_path: Path) -> None:
    data = codecs.BOM_UTF8 + b"id\n\xff"
    path = tmp_path / "bom.csv"
    path.write_bytes(data)

    with pytest.raises(SourceFileError) as caught:
        detect_encoding(path, "utf-8")

    # The BOM decodes as U+FEFF in plain UTF-8; the bad byte is the file's seventh.
    assert caught.value.params["offset"] == data.index(b"\xff") == 6


def test_unknown_encoding_named(tmp_path: Path) -> None:
    path = tmp_path / "source.csv"
    path.write_bytes(b"id\n1\n")

    with pytest.raises(SourceFileError) as caught:
        detect_encoding(path, "no-such-codec")

    assert caught.value.params["encoding"] == "no-such-codec"


MAPPING = parse_mapping(
    tomllib.loads(
        """
queue = "general"

[source]
format = "jsonl"
timezone = "Asia/Shanghai"
external_id = "id"
name = "stream"

[fields]
title = "title"
description = "description"
"""
    ),
    "stream.toml",
)


def _write_jsonl(path: Path, count: int, description: str = "") -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(1, count + 1):
            handle.write(json.dumps({"id": f"S-{number}", "title": f"第 {number} 号问题", "description": description}, ensure_ascii=False))
            handle.write("\n")
            if number % 100 == 0:
                handle.write("\n")
    return path


def test_row_count_matches_rows_read(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "rows.jsonl", 250)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("{not json\n[1, 2]\n")

    stream = open_source(path, MAPPING.source)
    items = list(stream.items())

    assert stream.row_count == 252
    assert len(items) == 252
    assert [row.number for row, _error in items][:3] == [1, 2, 3]
    assert sum(1 for _row, error in items if error is not None) == 2
    assert read_table(path, MAPPING.source).row_count == 252


def test_progress_adds_up_to_row_count(make_wenti_app, tmp_path: Path) -> None:
    app = make_wenti_app(config_toml=SQL_ONLY)
    ctx = app.context("default", "admin")
    path = _write_jsonl(tmp_path / "rows.jsonl", 1234)
    steps: list[int] = []

    report = run_import(app, ctx, path, MAPPING, batch_size=100, on_progress=steps.append)

    assert sum(steps) == report.read == 1234
    assert len(steps) == 13
    assert report.imported == 1234
    assert app.issues.count(ctx, IssueQuery()) == 1234


def test_broken_csv_quote_in_last_row_imports_nothing(make_wenti_app, tmp_path: Path) -> None:
    app = make_wenti_app(config_toml=SQL_ONLY)
    mapping = tmp_path / "csv.toml"
    mapping.write_text('queue = "general"\n[source]\nexternal_id = "编号"\n[fields]\ntitle = "标题"\n', encoding="utf-8")
    source = tmp_path / "broken.csv"
    lines = ["编号,标题"] + [f"C-{number},打印机卡纸 {number}" for number in range(1, 50)]
    source.write_text("\n".join(lines) + '\nC-50,"没有结束的引号\n', encoding="utf-8")

    result = invoke_cli(app, "import", str(source), "--mapping", str(mapping), "--batch-size", "1", user="agent")

    assert result.exit_code != 0, result.output
    assert "row 51 is not valid CSV" in result.stderr
    assert app.issues.count(app.context("default", "admin"), IssueQuery()) == 0


def test_import_memory_stays_below_file_size(make_wenti_app, tmp_path: Path) -> None:
    app = make_wenti_app(config_toml=SQL_ONLY)
    ctx = app.context("default", "admin")
    path = _write_jsonl(tmp_path / "large.jsonl", 12_000, description="现场反馈：设备无法启动，已重启两次仍然报错。" * 20)
    size = path.stat().st_size

    tracemalloc.start()
    try:
        report = run_import(app, ctx, path, MAPPING, batch_size=500)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert report.imported == 12_000
    # Holding the parsed rows alone would take more than the file's size.
    assert peak < size / 2, (peak, size)


CHANGED_MESSAGE = (
    "{file}: was changed, replaced or deleted while it was imported. Batches written before the change stay imported; "
    "when the file is complete, run the same command again, which skips the rows already imported."
)


def _write_csv(path: Path, count: int) -> Path:
    lines = ["id,title"] + [f"C-{number},打印机卡纸 {number}" for number in range(1, count + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CSV_SOURCE = parse_mapping(tomllib.loads('queue = "general"\n[source]\nexternal_id = "id"\n[fields]\ntitle = "title"\n'), "csv.toml").source


@pytest.mark.parametrize("appended", ['C-99,"quote never closed\n', "C-99,appended row\n"])
def test_lines_appended_after_check_not_read(tmp_path: Path, appended: str) -> None:
    path = _write_csv(tmp_path / "grows.csv", 10)
    stream = open_source(path, CSV_SOURCE)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(appended)

    items = list(stream.items())

    assert stream.row_count == 10
    assert len(items) == 10
    assert [error for _row, error in items] == [None] * 10
    assert items[-1][0].values["id"] == "C-10"


@pytest.mark.parametrize("name", ["rows.csv", "rows.jsonl"])
def test_file_deleted_after_check_reported(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".csv"):
        _write_csv(path, 10)
    else:
        _write_jsonl(path, 10)
    stream = open_source(path, MAPPING.source if name.endswith(".jsonl") else CSV_SOURCE)
    path.unlink()

    with pytest.raises(SourceFileError) as caught:
        next(iter(stream.items()))

    assert caught.value.message_id == CHANGED_MESSAGE


def test_file_replaced_after_check_reported(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "rows.csv", 10)
    stream = open_source(path, CSV_SOURCE)
    replacement = _write_csv(tmp_path / "other.csv", 10)
    replacement.replace(path)

    with pytest.raises(SourceFileError) as caught:
        next(iter(stream.items()))

    assert caught.value.message_id == CHANGED_MESSAGE


def test_csv_cut_during_import_keeps_batches(make_wenti_app, tmp_path: Path) -> None:
    app = make_wenti_app(config_toml=SQL_ONLY)
    ctx = app.context("default", "admin")
    mapping = parse_mapping(tomllib.loads('queue = "general"\n[source]\nexternal_id = "id"\n[fields]\ntitle = "title"\n'), "csv.toml")
    # Larger than the reader's buffer, so the cut happens in bytes not read yet.
    path = _write_csv(tmp_path / "cut.csv", 5000)

    def cut_file(_rows: int) -> None:
        with open(path, "r+b") as handle:
            handle.truncate(1000)

    with pytest.raises(SourceFileError) as caught:
        run_import(app, ctx, path, mapping, batch_size=100, on_progress=cut_file)

    assert caught.value.message_id == CHANGED_MESSAGE
    assert "nothing was imported" not in caught.value.message_id
    # The batches written before the cut stay imported.
    assert app.issues.count(ctx, IssueQuery()) >= 100


def test_rejected_rows_kept_out_of_memory(make_wenti_app, tmp_path: Path) -> None:
    app = make_wenti_app(config_toml=SQL_ONLY)
    ctx = app.context("default", "admin")
    mapping = parse_mapping(
        tomllib.loads('queue = "general"\n[source]\nexternal_id = "id"\n[fields]\ntitle = "title"\npriority = "priority"\n[values.priority]\nmap = { "高" = "high" }\nunknown = "reject"\n'),
        "reject.toml",
    )
    path = tmp_path / "rejected.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(1, 12_001):
            record = {"id": f"R-{number}", "title": f"第 {number} 号问题", "priority": "未知", "description": "现场反馈：设备无法启动。" * 40}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    size = path.stat().st_size
    rejects = RejectsFile(tmp_path / "rejects.csv", str)

    tracemalloc.start()
    try:
        report = run_import(app, ctx, path, mapping, batch_size=500, on_rejected=rejects.add, keep_rejected=20)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rejects.write()
    rejects.close()

    assert report.rejected_count == 12_000
    assert report.counts_add_up
    assert [rejection.row for rejection in report.rejected] == list(range(1, 21))
    # Holding every rejected row with its values would take more than the file's size.
    assert peak < size / 2, (peak, size)
    with open(tmp_path / "rejects.csv", encoding="utf-8-sig", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert len(written) == 12_000
    assert [row["row"] for row in written[:3]] == ["1", "2", "3"]
    assert written[-1]["id"] == "R-12000"


def _write_xlsx(path: Path, count: int) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "title"])
    for number in range(1, count + 1):
        sheet.append([f"X-{number}", f"打印机卡纸 {number}"])
    workbook.save(path)
    return path


@pytest.mark.parametrize("change", ["delete", "replace"])
def test_xlsx_changed_after_check_reported(tmp_path: Path, change: str) -> None:
    path = _write_xlsx(tmp_path / "rows.xlsx", 5)
    stream = open_source(path, CSV_SOURCE)
    if change == "delete":
        path.unlink()
    else:
        _write_xlsx(tmp_path / "other.xlsx", 50).replace(path)

    with pytest.raises(SourceFileError) as caught:
        next(iter(stream.items()))

    assert stream.row_count == 5
    assert caught.value.message_id == CHANGED_MESSAGE


def test_csv_cell_over_default_limit_read(tmp_path: Path) -> None:
    # Python's csv module rejects cells over 131,072 characters unless csv.field_size_limit() is raised.
    log = "2024-03-01 java.lang.OutOfMemoryError\n" * 5000
    path = tmp_path / "long.csv"
    path.write_text(f'id,title\nL-1,"{log}"\nL-2,打印机卡纸\n', encoding="utf-8")

    items = list(open_source(path, CSV_SOURCE).items())

    assert len(log) > 131_072
    assert [row.values["id"] for row, _error in items] == ["L-1", "L-2"]
    assert items[0][0].values["title"] == log
    # The cell's line breaks count as one spreadsheet row.
    assert items[1][0].number == 3


def test_csv_cell_over_limit_names_row(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("wenti.importing.readers.CSV_CELL_MAX_CHARACTERS", 1000)
    previous = csv.field_size_limit(1000)
    try:
        path = tmp_path / "open-quote.csv"
        path.write_text('id,title\nQ-1,ok\nQ-2,"never closed\n' + "more text\n" * 200, encoding="utf-8")

        with pytest.raises(SourceFileError) as caught:
            open_source(path, CSV_SOURCE)
    finally:
        csv.field_size_limit(previous)

    assert caught.value.params["row"] == 3
    assert caught.value.params["limit"] == 1000
    assert "cell longer than {limit} characters" in caught.value.message_id


def test_big5_read_as_gb18030_is_rejected_with_offset(tmp_path: Path) -> None:
    data = "id,title\nT-1,印表機卡紙\n".encode("big5")
    path = tmp_path / "big5.csv"
    path.write_bytes(data)

    with pytest.raises(SourceFileError) as caught:
        detect_encoding(path)

    assert caught.value.params["code"] == "U+E6B2"
    # The first Big5 character after the ASCII header and "T-1,".
    assert caught.value.params["offset"] == data.index("印".encode("big5"))
    assert "big5" in str(caught.value)


def test_utf16_with_bom_imports(make_wenti_app, tmp_path: Path) -> None:
    app = make_wenti_app(config_toml=SQL_ONLY)
    mapping = tmp_path / "csv.toml"
    mapping.write_text('queue = "general"\n[source]\nexternal_id = "编号"\n[fields]\ntitle = "标题"\n', encoding="utf-8")
    source = tmp_path / "unicode.csv"
    source.write_bytes("编号,标题\r\nU-1,打印机卡纸\r\nU-2,网络中断\r\n".encode("utf-16"))

    result = invoke_cli(app, "import", str(source), "--mapping", str(mapping), user="agent")

    assert result.exit_code == 0, result.output
    titles = [issue.title for issue in app.issues.list(app.context("default", "admin"), IssueQuery(sort=("id",))).items]
    assert titles == ["打印机卡纸", "网络中断"]
