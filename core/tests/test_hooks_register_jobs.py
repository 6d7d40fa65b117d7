"""The hooks `register_jobs`, `schedule_job`, `register_issue_filters` and `issue_badges` through the facade."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from wenti import hookimpl
from wenti.errors import PluginError
from wenti.domain import Issue
from wenti.records import IssueBadge, IssueFilter, ScheduledJob


class ReportJobs:
    @hookimpl
    def register_jobs(self):
        return [
            ScheduledJob(name="reports.daily", run=lambda app, payload: None, cron="0 1 * * *"),
            ScheduledJob(name="reports.send", run=lambda app, payload: None),
        ]


class SameName:
    @hookimpl
    def register_jobs(self):
        return [ScheduledJob(name="reports.daily", run=lambda app, payload: None)]


def test_register_jobs_stamps_plugin(wenti_pm, register_plugin):
    register_plugin(ReportJobs(), name="reports")

    jobs = {job.name: job for job in wenti_pm.hooks.jobs()}

    assert set(jobs) == {"reports.daily", "reports.send"}
    assert jobs["reports.daily"].plugin == "reports"
    assert jobs["reports.daily"].cron == "0 1 * * *"
    assert jobs["reports.send"].cron is None


def test_register_jobs_name_conflict(wenti_pm, register_plugin):
    register_plugin(ReportJobs(), name="reports")
    register_plugin(SameName(), name="copycat")

    with pytest.raises(PluginError, match="reports.daily"):
        wenti_pm.hooks.jobs()


class SlaLikeFilters:
    @hookimpl
    def register_issue_filters(self):
        return [IssueFilter(name="breached", label="SLA breached", match=lambda app, ctx, value: [1, 2])]


def test_register_issue_filters_stamps_records(wenti_pm, register_plugin):
    register_plugin(SlaLikeFilters(), name="sla_like")

    filters = wenti_pm.hooks.issue_filters()

    assert [item.name for item in filters] == ["breached"]
    assert filters[0].plugin == "sla_like"
    assert filters[0].value_kind == "flag"
    assert filters[0].match(None, None, None) == [1, 2]


class GoodBadges:
    @hookimpl
    def issue_badges(self, issues, ctx):
        return [IssueBadge(issue_id=issue.id, name="sla.resolution", label=f"{ctx}:{issue.id}", tone="danger") for issue in issues]


class BrokenBadges:
    @hookimpl
    def issue_badges(self, issues):
        raise RuntimeError("badge service down")


class WrongBadges:
    @hookimpl
    def issue_badges(self, issues):
        return [{"issue_id": 1, "label": "not a record"}]


def test_issue_badges_isolates_failures(wenti_pm, register_plugin, caplog):
    register_plugin(GoodBadges(), name="good")
    register_plugin(BrokenBadges(), name="broken")
    register_plugin(WrongBadges(), name="wrong")
    issues = [Issue(tenant_id="t", queue="it", title="a", reporter="r", status="new", id=7)]

    badges = wenti_pm.hooks.issue_badges(issues, "ctx", None)

    assert [(badge.issue_id, badge.label, badge.plugin) for badge in badges] == [(7, "ctx:7", "good")]
    assert "broken" in caplog.text
    assert "wrong" in caplog.text


class MemoryRunner:
    def __init__(self):
        self.runs = []

    @hookimpl
    def schedule_job(self, job, run_at, payload, key):
        self.runs.append((job, run_at, payload, key))
        return f"{job}:{key}"


def test_schedule_job_reaches_runner(wenti_pm, register_plugin):
    runner = register_plugin(MemoryRunner(), name="memory_runner")
    when = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)

    run_id = wenti_pm.hooks.schedule_job(None, "reports.send", when, {"report": 3}, key="r3")

    assert run_id == "reports.send:r3"
    assert runner.runs == [("reports.send", when, {"report": 3}, "r3")]


def test_schedule_job_without_runner_fails(wenti_pm):
    with pytest.raises(PluginError, match="No installed job runner accepted the job reports.send"):
        wenti_pm.hooks.schedule_job(None, "reports.send", datetime(2026, 3, 2, tzinfo=timezone.utc))


class DueBadges:
    @hookimpl
    def issue_badges(self, issues):
        return [IssueBadge(issue_id=issue.id, name="sla.resolution", label="剩余 2 小时", value="2026-03-02T03:00:00+00:00") for issue in issues]


def test_issue_badges_become_export_columns(wenti_app, register_plugin):
    import io
    import json

    from wenti.exporting import export_issues
    from wenti.store import IssueQuery

    register_plugin(DueBadges(), name="due_badges", host=wenti_app.plugins)
    ctx = wenti_app.context("default", "agent")
    issue = wenti_app.issues.create(ctx, queue="general", title="打印机卡纸")
    jsonl, csv_out = io.StringIO(), io.StringIO()

    export_issues(wenti_app, ctx, IssueQuery(), "jsonl", jsonl)
    export_issues(wenti_app, ctx, IssueQuery(), "csv", csv_out)

    record = json.loads(jsonl.getvalue())
    assert record["key"] == issue.key
    assert record["sla.resolution"] == "剩余 2 小时"
    assert record["sla.resolution.value"] == "2026-03-02T03:00:00+00:00"
    assert csv_out.getvalue().splitlines()[0].endswith("sla.resolution,sla.resolution.value")
