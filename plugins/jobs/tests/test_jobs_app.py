"""The jobs plugin in a running app: registered jobs, delayed runs through the hook, the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from wenti import hookimpl
from wenti.cli.state import CliState
from wenti.errors import PluginError
from wenti.records import ScheduledJob
from wenti_jobs import runner_for
from wenti_jobs.cli import jobs_group

CONFIG = "[plugins.jobs]\nautostart = false\n"


class Reminders:
    def __init__(self):
        self.sent = []
        self.ticks = 0

    @hookimpl
    def register_jobs(self):
        return [
            ScheduledJob(name="test.remind", run=lambda app, payload: self.sent.append(payload["issue"])),
            ScheduledJob(name="test.tick", run=self.tick, cron="*/10 * * * *"),
        ]

    def tick(self, app, payload):
        self.ticks += 1


def test_schedule_job_hook_runs_once(make_wenti_app, frozen_clock):
    reminders = Reminders()
    app = make_wenti_app(config_toml=CONFIG, plugins=[(reminders, "reminders")])

    run_id = app.hooks.schedule_job(app, "test.remind", frozen_clock.now() + timedelta(hours=2), {"issue": 7}, key="issue-7")
    early = runner_for(app).run_pending()
    frozen_clock.advance(hours=2)
    ran = runner_for(app).run_pending()
    again = [result for result in runner_for(app).run_pending() if result.job.startswith("test.")]

    assert run_id == "test.remind:issue-7"
    assert [result.job for result in early] == []
    assert sorted(result.job for result in ran if result.job.startswith("test.")) == ["test.remind", "test.tick"]
    assert reminders.sent == [7]
    assert reminders.ticks == 1
    assert again == []


def test_unknown_job_is_rejected(make_wenti_app, frozen_clock):
    app = make_wenti_app(config_toml=CONFIG, plugins=[(Reminders(), "reminders")])

    with pytest.raises(ValueError, match="job 'test.nothing' is not registered"):
        app.hooks.schedule_job(app, "test.nothing", frozen_clock.now())


def test_unknown_runner_stops_startup(make_wenti_app):
    with pytest.raises(PluginError, match="runner = 'celery'"):
        make_wenti_app(config_toml='[plugins.jobs]\nautostart = false\nrunner = "celery"\n')


def test_jobs_cli_lists_and_runs(make_wenti_app, frozen_clock):
    app = make_wenti_app(config_toml=CONFIG, plugins=[(Reminders(), "reminders")])
    state = CliState(None, "default", "admin", "en")
    state.adopt(app)

    listed = CliRunner().invoke(jobs_group, ["list"], obj=state)
    frozen_clock.advance(minutes=10)
    ran = CliRunner().invoke(jobs_group, ["run"], obj=state)

    assert listed.exit_code == 0, listed.output
    assert "test.tick  scheduled" in listed.output
    assert ran.exit_code == 0, ran.output
    assert "Ran test.tick (test.tick)." in ran.output
