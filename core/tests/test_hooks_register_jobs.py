"""The `register_jobs` registration hook and its facade method."""

from __future__ import annotations

import pytest

from wenti import hookimpl
from wenti.errors import PluginError
from wenti.records import ScheduledJob


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


def test_jobs_are_stamped_with_plugin(wenti_pm, register_plugin):
    register_plugin(ReportJobs(), name="reports")

    jobs = {job.name: job for job in wenti_pm.hooks.jobs()}

    assert set(jobs) == {"reports.daily", "reports.send"}
    assert jobs["reports.daily"].plugin == "reports"
    assert jobs["reports.daily"].cron == "0 1 * * *"
    assert jobs["reports.send"].cron is None


def test_duplicate_job_names_conflict(wenti_pm, register_plugin):
    register_plugin(ReportJobs(), name="reports")
    register_plugin(SameName(), name="copycat")

    with pytest.raises(PluginError, match="reports.daily"):
        wenti_pm.hooks.jobs()
