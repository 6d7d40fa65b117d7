"""Bulk import through the service layer: source times kept, bad rows rejected, no duplicates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from wenti.errors import PermissionDenied
from wenti.services import ImportedIssue
from wenti.store import IssueQuery

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _rows():
    created = datetime(2016, 2, 3, 9, 30, tzinfo=SHANGHAI)
    return [
        ImportedIssue(
            title="数据库表空间满",
            description="告警：表空间使用率 99%",
            priority="high",
            status="resolved",
            external_id="ICT-1",
            created_at=created,
            resolved_at=created + timedelta(hours=3),
        ),
        ImportedIssue(title="", external_id="ICT-2", created_at=created),
        ImportedIssue(title="未知优先级", priority="P0", external_id="ICT-3", created_at=created),
        ImportedIssue(title="时间不完整", external_id="ICT-4", created_at=datetime(2016, 2, 3, 9, 30)),
        ImportedIssue(title="状态不存在", status="archived", external_id="ICT-5", created_at=created),
        ImportedIssue(
            title="解决早于创建",
            external_id="ICT-6",
            status="resolved",
            created_at=created,
            resolved_at=created - timedelta(days=1),
        ),
        ImportedIssue(title="重复行", external_id="ICT-1", created_at=created),
    ]


def test_import_keeps_source_times_and_reports_rejects(wenti_app):
    agent = wenti_app.context("default", "agent")

    result = wenti_app.issues.import_batch(agent, _rows())

    assert result.imported == [0]
    assert result.duplicates == [6]
    assert [index for index, _error in result.rejected] == [1, 2, 3, 4, 5]
    reasons = {index: str(error) for index, error in result.rejected}
    assert "P0" in reasons[2]
    assert "time zone" in reasons[3]
    assert "archived" in reasons[4]
    assert "resolved_at" in reasons[5]
    [issue] = wenti_app.issues.list(agent, IssueQuery()).items
    assert issue.created_at == datetime(2016, 2, 3, 1, 30, tzinfo=timezone.utc)
    assert issue.resolved_at == datetime(2016, 2, 3, 4, 30, tzinfo=timezone.utc)
    assert issue.title == "数据库表空间满"
    assert [event.type for event in wenti_app.issues.history(agent, issue.id)] == ["issue.imported"]


def test_import_twice_adds_nothing(wenti_app):
    agent = wenti_app.context("default", "agent")
    wenti_app.issues.import_batch(agent, _rows())

    again = wenti_app.issues.import_batch(agent, _rows())

    assert again.imported == []
    assert again.duplicates == [0, 6]
    assert wenti_app.issues.count(agent, IssueQuery()) == 1


def test_reporter_cannot_import(wenti_app):
    reporter = wenti_app.context("default", "reporter")

    with pytest.raises(PermissionDenied):
        wenti_app.issues.import_batch(reporter, _rows())
