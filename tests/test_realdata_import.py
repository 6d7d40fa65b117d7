"""Import the three real data sets with the mappings in examples/mappings.

The data sets live outside the repository, in ../shared/data; the tests skip
when it is absent. Checks per set: every row is imported or rejected with a
reason, text arrives unchanged, times are converted from the stated zone,
labels are mapped, and a second import adds nothing.
"""

from __future__ import annotations

import csv
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wenti.importing import load_mapping, run_import
from wenti.store import IssueQuery

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = REPO_ROOT.parent / "shared" / "data"
MAPPINGS = REPO_ROOT / "examples" / "mappings"
SQL_ONLY = '[plugins]\nenabled = ["sql"]\n'

pytestmark = pytest.mark.realdata


def _data_file(relative: str) -> Path:
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"data set {relative} not found under {DATA} (the shared data folder is not part of the repository)")
    return path


def _source_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def it_app(make_wenti_app):
    app = make_wenti_app(config_toml=SQL_ONLY)
    app.admin.create_queue(app.context("default", "admin"), "it", "IT 运维")
    return app


def _import_twice(app, path: Path, mapping_name: str):
    ctx = app.context("default", "agent")
    mapping = load_mapping(MAPPINGS / mapping_name)
    first = run_import(app, ctx, path, mapping)
    second = run_import(app, ctx, path, mapping)
    issues = {issue.external_id: issue for issue in _all_issues(app, mapping.source.name)}
    return first, second, issues


def _all_issues(app, source: str):
    ctx = app.context("default", "admin")
    query = IssueQuery(source=source, sort=("id",), limit=1000)
    while True:
        page = app.issues.list(ctx, query)
        yield from page.items
        if not page.next_cursor:
            return
        query = IssueQuery(source=source, sort=("id",), limit=1000, after=page.next_cursor)


def _plain(text: str) -> str:
    """Text without control characters and with runs of white space as one space.

    Titles are one line without control characters (the Hadoop set has a stray
    backspace), so a title is compared with its source cell in this form.
    """
    visible = "".join(char for char in text if char.isspace() or unicodedata.category(char) != "Cc")
    return " ".join(visible.split())


def _check_counts(first, second, rows, issues):
    assert first.read == len(rows)
    assert first.imported + first.duplicates + len(first.rejected) == len(rows)
    assert all(str(rejection.error) for rejection in first.rejected)
    assert len(issues) == first.imported
    assert second.imported == 0
    assert second.duplicates == first.imported
    assert len(second.rejected) == len(first.rejected)


def test_realdata_ict_incidents_zh(it_app):
    path = _data_file("ict_incidents_zh/ict_incidents_zh.csv")
    rows = _source_rows(path)

    first, second, issues = _import_twice(it_app, path, "ict_incidents_zh.toml")

    _check_counts(first, second, rows, issues)
    assert first.imported == len(rows)
    shanghai = ZoneInfo("Asia/Shanghai")
    unlabelled = {"", "0", "无报告", "未查清"}
    for row in rows:
        issue = issues[row["id"]]
        assert issue.description == row["问题现象"]
        assert row["问题现象"].strip().startswith(issue.title.rstrip("…"))
        assert issue.custom_fields["unit"] == row["单位简称"]
        assert row["单位简称"] in issue.tags
        start = datetime.strptime(row["故障开始时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=shanghai)
        assert issue.created_at == start.astimezone(timezone.utc)
        if row["故障结束时间"]:
            end = datetime.strptime(row["故障结束时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=shanghai)
            assert issue.resolved_at == end.astimezone(timezone.utc)
            assert issue.status == "resolved"
        else:
            assert issue.resolved_at is None
            assert issue.status == "new"
        if row["故障组件"] in unlabelled:
            assert issue.category is None
        elif row["故障组件"] == "数据库":
            assert issue.category == "数据库软件"
        else:
            assert issue.category == row["故障组件"]


def test_realdata_endava_it_tickets_en(it_app):
    path = _data_file("endava_it_tickets_en/endava_it_tickets_en.csv")
    rows = _source_rows(path)

    first, second, issues = _import_twice(it_app, path, "endava_it_tickets_en.toml")

    _check_counts(first, second, rows, issues)
    assert first.imported == len(rows)
    priorities = {"0": "critical", "1": "high", "2": "normal", "3": "low"}
    for row in rows:
        issue = issues[row["ticket_no"]]
        assert issue.description == row["body"]
        assert issue.category == f"cat-{row['category']}"
        assert issue.priority.value == priorities[row["urgency"]]
        assert issue.custom_fields["ticket_type"] == row["ticket_type"]
        if row["title"].strip():
            assert row["title"].strip().startswith(issue.title.rstrip("…"))
        else:
            assert row["body"].startswith(issue.title.rstrip("…"))


def test_realdata_hadoop_jira_bugs_en(it_app):
    path = _data_file("hadoop_jira_bugs_en/hadoop_jira_bugs_en.csv")
    rows = _source_rows(path)

    first, second, issues = _import_twice(it_app, path, "hadoop_jira_bugs_en.toml")

    _check_counts(first, second, rows, issues)
    assert first.imported == len(rows)
    priorities = {"Blocker": "critical", "Critical": "high", "Major": "normal", "Minor": "low", "Trivial": "low"}
    statuses = {"Open": "new", "In Progress": "in_progress", "Patch Available": "in_progress", "Reopened": "in_progress", "Resolved": "resolved"}
    for row in rows:
        issue = issues[row["issue_id"]]
        assert _plain(issue.title) == _plain(row["summary"])
        assert issue.description == row["description"]
        assert issue.priority.value == priorities[row["priority"]]
        assert issue.status == statuses[row["status"]]
        assert issue.created_at == datetime.strptime(row["created"], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
        if row["resolved"]:
            assert issue.resolved_at == datetime.strptime(row["resolved"], "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
        else:
            assert issue.resolved_at is None
        if row["resolution"]:
            assert issue.custom_fields["resolution"] == row["resolution"]


def test_realdata_ict_incidents_as_gb18030(it_app, tmp_path):
    source = _data_file("ict_incidents_zh/ict_incidents_zh.csv")
    rows = _source_rows(source)
    # The same records in GB18030, the encoding Excel on Chinese Windows saves CSV in.
    copy = tmp_path / "ict_gb18030.csv"
    copy.write_bytes(source.read_text(encoding="utf-8").encode("gb18030"))

    first, second, issues = _import_twice(it_app, copy, "ict_incidents_zh.toml")

    _check_counts(first, second, rows, issues)
    assert first.encoding == "gb18030"
    for row in rows:
        assert issues[row["id"]].description == row["问题现象"]
