"""`wenti export` writes CSV with a BOM and JSON Lines that `wenti import` reads back unchanged."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from wenti.cli.testing import invoke_cli
from wenti.store import IssueQuery

SQL_ONLY = '[plugins]\nenabled = ["sql"]\n'
EXPORT_MAPPING = Path(__file__).resolve().parents[2] / "examples" / "mappings" / "wenti-export.toml"
COMPARED = ("queue", "title", "description", "status", "priority", "category", "tags", "reporter", "assignee", "custom_fields", "created_at", "resolved_at", "closed_at")


@pytest.fixture
def source_app(make_wenti_app, frozen_clock):
    app = make_wenti_app(config_toml=SQL_ONLY)
    agent = app.context("default", "agent")
    first = app.issues.create(
        agent,
        title="数据库表空间满",
        description="告警：使用率 99%\n第二行, 带逗号 \"引号\"",
        priority="critical",
        category="数据库",
        tags=["dba", "紧急处理"],
        custom_fields={"unit": "辽宁", "system": "ERP"},
        reporter="reporter",
    )
    frozen_clock.advance(hours=2)
    app.issues.assign(agent, first.id, first.version, "agent")
    issue = app.issues.get(agent, first.id)
    frozen_clock.advance(hours=1)
    app.issues.transition(agent, issue.id, issue.version, "resolve", fields={"resolution": "扩容表空间"})
    frozen_clock.advance(hours=1)
    app.issues.create(agent, title="Printer jam", priority="low")
    return app


def _snapshot(app):
    issues = app.issues.list(app.context("default", "admin"), IssueQuery(sort=("created_at",), limit=100)).items
    return [{name: getattr(issue, name) for name in COMPARED} for issue in issues]


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_export_then_import_round_trips(source_app, make_wenti_app, tmp_path, suffix):
    out = tmp_path / f"issues.{suffix}"
    exported = invoke_cli(source_app, "export", "--out", str(out), user="agent")
    target_app = make_wenti_app(config_toml=SQL_ONLY)

    imported = invoke_cli(target_app, "import", str(out), "--mapping", str(EXPORT_MAPPING), user="agent")
    again = invoke_cli(target_app, "import", str(out), "--mapping", str(EXPORT_MAPPING), user="agent")

    assert exported.exit_code == 0, exported.output
    assert "Exported 2 issues" in exported.stderr
    assert imported.exit_code == 0, imported.output
    assert "2 imported" in imported.stdout
    assert "0 imported, 2 skipped" in again.stdout
    assert _snapshot(target_app) == _snapshot(source_app)


def test_csv_export_has_bom_and_readable_chinese(source_app, tmp_path):
    out = tmp_path / "issues.csv"

    result = invoke_cli(source_app, "export", "--out", str(out), "--priority", "critical", user="agent")

    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert rows[0]["title"] == "数据库表空间满"
    assert rows[0]["tags"] == "dba,紧急处理"
    assert rows[0]["custom.unit"] == "辽宁"
    assert rows[0]["custom.resolution"] == "扩容表空间"
    assert rows[0]["status"] == "resolved"
    assert not list(tmp_path.glob("*.part"))


def test_jsonl_export_to_stdout(source_app):
    result = invoke_cli(source_app, "export", "--format", "jsonl", "--queue", "general", user="agent")

    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["title"] for record in records] == ["数据库表空间满", "Printer jam"]
    assert records[0]["tags"] == ["dba", "紧急处理"]
    assert records[0]["key"] == "GENERAL-1"
    assert records[0]["created_at"] == "2026-03-02T01:00:00+00:00"


def test_reporter_exports_only_own_issues(source_app):
    result = invoke_cli(source_app, "export", "--format", "jsonl", user="reporter")

    assert result.exit_code == 0, result.output
    assert [json.loads(line)["title"] for line in result.stdout.splitlines()] == ["数据库表空间满"]


def test_export_to_missing_folder_fails_cleanly(source_app, tmp_path):
    out = tmp_path / "no-such-folder" / "issues.csv"

    result = invoke_cli(source_app, "export", "--out", str(out), user="agent")

    assert result.exit_code == 2, result.output
    assert f"the folder {out.parent} does not exist" in result.stderr
    assert str(out) in result.stderr
    assert not out.parent.exists()



FORMULA_TITLES = ['=HYPERLINK("http://127.0.0.1/x","点击")', "+86 电话打不通", "-5 度报警", "@SUM(A1)", "'=已经转义过", "'普通引号"]


@pytest.mark.parametrize("title", FORMULA_TITLES)
def test_formula_cells_escaped_and_restored(source_app, make_wenti_app, tmp_path, title):
    agent = source_app.context("default", "agent")
    source_app.issues.create(agent, title=title, description="=1+1", custom_fields={"system": "-3"})
    out = tmp_path / "issues.csv"
    exported = invoke_cli(source_app, "export", "--out", str(out), user="agent")
    target_app = make_wenti_app(config_toml=SQL_ONLY)

    imported = invoke_cli(target_app, "import", str(out), "--mapping", str(EXPORT_MAPPING), user="agent")

    assert exported.exit_code == 0, exported.output
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cells = [value for row in rows for value in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert rows[-1]["description"] == "'=1+1"
    assert imported.exit_code == 0, imported.output
    assert _snapshot(target_app) == _snapshot(source_app)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("''@x", "'''@x"),
        ("'plain", "'plain"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_escape_formula_round_trip(text, escaped):
    from wenti.exporting import escape_formula, unescape_formula

    assert escape_formula(text) == escaped
    assert unescape_formula(escaped) == text
