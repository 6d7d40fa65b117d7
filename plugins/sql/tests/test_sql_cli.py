"""`wenti db status|upgrade|downgrade` against an app with a sample plugin branch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wenti.cli.testing import invoke_cli
from wenti.testing.helpers import build_app
from wenti_sql.cli import describe_difference


@pytest.fixture
def app(tmp_path: Path, notes_plugin):
    app = build_app(tmp_path / "instance", enabled_plugins=["sql"], plugins=[(notes_plugin, "notes")])
    yield app
    app.close()


def _status(app) -> dict:
    result = invoke_cli(app, "db", "status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_db_status_lists_branches(app) -> None:
    status = _status(app)
    branches = {branch["branch"]: branch for branch in status["branches"]}
    assert branches["sql"]["newest"] == "0002_issue_counts"
    assert branches["sql"]["current"] is True
    assert branches["sample"]["current"] is True
    assert status["drift"] == []
    assert status["url"].startswith("sqlite:///")


def test_db_downgrade_needs_confirmation(app) -> None:
    refused = invoke_cli(app, "db", "downgrade", "sample@base")
    assert refused.exit_code == 1
    assert "--yes" in refused.output
    assert {b["branch"]: b["current"] for b in _status(app)["branches"]}["sample"] is True


def test_db_downgrade_then_upgrade(app) -> None:
    downgraded = invoke_cli(app, "db", "downgrade", "sample@base", "--yes")
    assert downgraded.exit_code == 0, downgraded.output
    status = _status(app)
    assert {b["branch"]: b["current"] for b in status["branches"]} == {"sample": False, "sql": True}
    assert "add_table sample_notes" in status["drift"]

    upgraded = invoke_cli(app, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "2 branches" in upgraded.output
    assert _status(app)["drift"] == []


def test_db_status_in_chinese(app) -> None:
    result = invoke_cli(app, "db", "status", lang="zh_CN")
    assert result.exit_code == 0, result.output
    assert "已是最新" in result.output
    assert "分支" in result.output


def test_describe_difference_of_column_change() -> None:
    change = [("modify_nullable", None, "wenti_issues", "title", {}, False, True)]
    assert describe_difference(change) == "modify_nullable wenti_issues.title"
