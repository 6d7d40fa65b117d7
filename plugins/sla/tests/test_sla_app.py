"""The SLA plugin in a running app: clocks from history, recompute, events, escalation, CLI."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from wenti.cli.state import CliState
from wenti.errors import PluginError
from wenti.i18n import use_locale
from wenti_jobs import runner_for
from wenti_sla import service_for
from wenti_sla.cli import sla_group
from wenti_sla.config import SlaConfig, build_calendars, build_policies
from wenti_sla.service import SlaService

SHANGHAI = ZoneInfo("Asia/Shanghai")

CONFIG = """
[plugins.jobs]
autostart = false

[[plugins.sla.policies]]
key = "standard"
name = "Standard"
calendar = "office"
warn_at = [0.75]
escalations = [
  { on = "breached", metric = "resolution", action = "raise_priority" },
  { on = "breached", action = "notify", to = "role:queue_manager" },
]

[plugins.sla.policies.targets.normal]
first_response = "2h"
resolution = "8h"

[plugins.sla.policies.targets.high]
first_response = "1h"
resolution = "4h"

[plugins.sla.calendars.office]
base = "china"
weekdays = ["09:00-18:00"]
{extra}
"""


STANDARD = {
    "key": "standard",
    "calendar": "office",
    "targets": {"normal": {"first_response": "2h", "resolution": "8h"}, "high": {"first_response": "1h", "resolution": "4h"}},
}


def at(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def local(timestamp):
    return datetime.fromtimestamp(timestamp, SHANGHAI).replace(tzinfo=None)


@pytest.fixture
def make_app(make_wenti_app, frozen_clock):
    def make(extra: str = ""):
        return make_wenti_app(config_toml=CONFIG.replace("{extra}", extra))

    return make


def deliver(app):
    """Deliver outbox events so the SLA plugin refreshes its clocks (what `wenti serve` does in the background)."""
    while app.outbox.dispatch_pending():
        pass


def clocks_of(app, issue_id):
    return {row["metric"]: row for row in service_for(app).clock_rows("default", [issue_id])[issue_id]}


def test_makeup_workday_due_time_in_app(make_app, frozen_clock):
    frozen_clock.set(at(2025, 2, 7, 17))
    app = make_app()
    ctx = app.context("default", "agent")

    issue = app.issues.create(ctx, queue="general", title="打印机卡纸")
    deliver(app)

    rows = clocks_of(app, issue.id)
    assert local(rows["resolution"]["due_at"]) == datetime(2025, 2, 8, 16, 0)
    assert rows["first_response"]["status"] == "running"


def test_reply_pause_and_resolve_from_history(make_app, frozen_clock):
    frozen_clock.set(at(2025, 3, 7, 10))
    app = make_app()
    agent = app.context("default", "agent")
    issue = app.issues.create(agent, queue="general", title="VPN 连不上", reporter="reporter")

    frozen_clock.set(at(2025, 3, 7, 11))
    app.issues.comment(agent, issue.id, "我们在查")
    frozen_clock.set(at(2025, 3, 7, 17))
    issue = app.issues.transition(agent, issue.id, app.issues.get(agent, issue.id).version, "wait")
    deliver(app)
    paused = clocks_of(app, issue.id)

    frozen_clock.set(at(2025, 3, 10, 10))
    issue = app.issues.transition(agent, issue.id, issue.version, "resume")
    deliver(app)
    resumed = clocks_of(app, issue.id)

    assert paused["first_response"]["status"] == "met"
    assert paused["first_response"]["elapsed"] == pytest.approx(3600)
    assert paused["resolution"]["status"] == "paused"
    assert paused["resolution"]["due_at"] is None
    assert resumed["resolution"]["status"] == "running"
    # 8 h from Friday 10:00 were due Friday 18:00. The wait covered 2 working hours
    # (Friday 17:00-18:00 and Monday 09:00-10:00), which moves the due time to Monday 11:00.
    assert paused["resolution"]["elapsed"] == pytest.approx(7 * 3600)
    assert local(resumed["resolution"]["due_at"]) == datetime(2025, 3, 10, 11, 0)
    assert service_for(app).matching_issue_ids("default", "paused", now=at(2025, 3, 10, 10).timestamp()) == []
    assert service_for(app).matching_issue_ids("default", "due_within", hours=2, now=at(2025, 3, 10, 10).timestamp()) == [issue.id]


def test_calendar_change_recompute_spares_closed(make_app, frozen_clock):
    frozen_clock.set(at(2025, 3, 3, 17))
    app = make_app()
    agent = app.context("default", "agent")
    open_issue = app.issues.create(agent, queue="general", title="开着的问题")
    closed_issue = app.issues.create(agent, queue="general", title="关掉的问题")
    frozen_clock.set(at(2025, 3, 3, 17, 30))
    closed_issue = app.issues.transition(agent, closed_issue.id, closed_issue.version, "resolve", fields={"resolution": "已修好"})
    app.issues.transition(agent, closed_issue.id, closed_issue.version, "close")
    deliver(app)
    closed_before = clocks_of(app, closed_issue.id)
    open_before = clocks_of(app, open_issue.id)

    # The tenant closes Tuesday 4 March: the changed configuration gives a new service.
    changed = SlaConfig(policies=[STANDARD], calendars={"office": {"base": "china", "weekdays": ["09:00-18:00"], "closed_days": {"2025-03-04": "年度盘点"}}})
    calendars = build_calendars(changed, {record.name: record.factory for record in app.hooks.calendars()})
    service = SlaService(app, build_policies(changed, calendars), calendars)
    count = service.recompute(["default"])

    open_after = clocks_of(app, open_issue.id)
    closed_after = clocks_of(app, closed_issue.id)
    assert count == 1
    assert local(open_before["resolution"]["due_at"]) == datetime(2025, 3, 4, 16, 0)
    assert local(open_after["resolution"]["due_at"]) == datetime(2025, 3, 5, 16, 0)
    assert closed_after == closed_before


def test_breach_records_event_and_escalates(make_app, frozen_clock):
    frozen_clock.set(at(2025, 3, 3, 9))
    app = make_app()
    agent = app.context("default", "agent")
    issue = app.issues.create(agent, queue="general", title="服务器宕机", reporter="reporter")
    app.issues.comment(agent, issue.id, "收到")
    deliver(app)
    runner = runner_for(app)
    runner.run_pending()

    frozen_clock.set(at(2025, 3, 3, 15, 1))
    warned = runner.run_pending()
    frozen_clock.set(at(2025, 3, 3, 17, 1))
    breached = service_for(app).check_due()
    again = service_for(app).check_due()
    # A recompute keeps the record of notices already sent.
    service_for(app).recompute(["default"])
    after_recompute = service_for(app).check_due()
    deliver(app)

    history = [event.type for event in app.issues.history(agent, issue.id)]
    assert [result.job for result in warned if result.job.startswith("sla.")] == ["sla.check"]
    assert history.count("sla.warning") == 1
    assert [(notice.kind, notice.metric) for notice in breached] == [("breached", "resolution")]
    assert again == []
    assert after_recompute == []
    assert clocks_of(app, issue.id)["resolution"]["warned"] == [0.75]
    assert history.count("sla.breached") == 1
    breach = next(event for event in app.issues.history(agent, issue.id) if event.type == "sla.breached")
    assert breach.data["metric"] == "resolution"
    assert {"action": "notify", "to": "role:queue_manager", "on": "breached", "metric": None, "share": None} in breach.data["escalations"]
    # raise_priority moved the issue from normal to high.
    assert app.issues.get(agent, issue.id).priority.value == "high"


def test_missed_breach_check_runs_once_after_restart(make_app, frozen_clock):
    frozen_clock.set(at(2025, 3, 3, 9))
    app = make_app()
    agent = app.context("default", "agent")
    issue = app.issues.create(agent, queue="general", title="邮件发不出去")
    deliver(app)
    runner_for(app).run_pending()

    # The scheduler does not run for two days; then a process starts again.
    frozen_clock.set(at(2025, 3, 5, 12))
    results = runner_for(app).run_pending()
    second = [result for result in runner_for(app).run_pending() if result.job.startswith("sla.")]

    history = [event.type for event in app.issues.history(agent, issue.id)]
    assert [result.job for result in results if result.job.startswith("sla.")] == ["sla.check"]
    assert second == []
    assert history.count("sla.breached") == 2
    assert "sla.warning" not in history


def test_explain_reads_in_both_languages(make_app, frozen_clock):
    frozen_clock.set(at(2025, 2, 7, 17))
    app = make_app()
    agent = app.context("default", "agent")
    issue = app.issues.create(agent, queue="general", title="发票打印")
    deliver(app)
    frozen_clock.set(at(2025, 2, 8, 10))

    state = CliState(None, "default", "agent", "en")
    state.adopt(app)
    english = CliRunner().invoke(sla_group, ["explain", issue.key], obj=state)
    with use_locale("zh_CN"):
        state_zh = CliState(None, "default", "agent", "zh_CN")
        state_zh.adopt(app)
        chinese = CliRunner().invoke(sla_group, ["explain", str(issue.id)], obj=state_zh)

    assert english.exit_code == 0, english.output
    assert "make-up workday" in english.output
    assert "2025-02-08 16:00" in english.output
    assert "Resolution: running" in english.output
    assert chinese.exit_code == 0, chinese.output
    assert "调休上班日" in chinese.output
    assert "解决" in chinese.output


def test_bad_policy_config_names_key(make_wenti_app):
    bad = CONFIG.replace('resolution = "8h"', 'resolution = "8 hours"').replace("{extra}", "")

    with pytest.raises(PluginError, match="targets.normal.resolution = .8 hours. is not a duration"):
        make_wenti_app(config_toml=bad)


def test_badges_and_filters_through_hooks(make_app, frozen_clock):
    frozen_clock.set(at(2025, 3, 3, 9))
    app = make_app()
    agent = app.context("default", "agent", locale="en")
    late = app.issues.create(agent, queue="general", title="迟了", reporter="reporter")
    fresh_issue = app.issues.create(agent, queue="general", title="新的", reporter="reporter")
    app.issues.transition(agent, fresh_issue.id, fresh_issue.version, "wait")
    deliver(app)
    frozen_clock.set(at(2025, 3, 3, 12))

    badges = {(badge.issue_id, badge.name): badge for badge in app.hooks.issue_badges([late, fresh_issue], agent, app)}
    filters = {item.name: item for item in app.hooks.issue_filters()}
    chinese = app.hooks.issue_badges([late], app.context("default", "agent", locale="zh_CN"), app)

    assert badges[(late.id, "sla.first_response")].label == "First response: breached"
    assert badges[(late.id, "sla.first_response")].tone == "danger"
    assert badges[(late.id, "sla.resolution")].label == "Resolution: 5 h left"
    assert badges[(late.id, "sla.resolution")].value == "2025-03-03T09:00:00+00:00"
    assert badges[(fresh_issue.id, "sla.resolution")].tone == "muted"
    assert "解决：剩余 5 小时" in [badge.label for badge in chinese]
    assert filters["sla_breached"].match(app, agent, None) == [late.id]
    assert filters["sla_paused"].match(app, agent, None) == [fresh_issue.id]
    assert filters["sla_due_within"].match(app, agent, 6) == [late.id]
    assert filters["sla_due_within"].match(app, agent, 4) == []


def test_standard_preset_covers_every_queue(make_wenti_app, frozen_clock):
    frozen_clock.set(at(2025, 2, 7, 17))
    app = make_wenti_app(config_toml='[plugins.jobs]\nautostart = false\n\n[plugins.sla]\npreset = "standard"\n')
    agent = app.context("default", "agent")

    issue = app.issues.create(agent, queue="general", title="网络慢", priority="high", reporter="reporter")
    deliver(app)

    rows = clocks_of(app, issue.id)
    assert rows["resolution"]["policy"] == "standard"
    # High: 8 working hours from Friday 17:00 on 09:00-18:00 days end on the make-up Saturday.
    assert local(rows["resolution"]["due_at"]) == datetime(2025, 2, 8, 16, 0)
    with pytest.raises(PluginError, match="preset = 'gold' is unknown"):
        make_wenti_app(config_toml='[plugins.sla]\npreset = "gold"\n')


def test_badge_block_renders_hook_badges(make_app, frozen_clock):
    jinja2 = pytest.importorskip("jinja2")
    templates = Path(__file__).resolve().parents[2] / "web" / "src" / "wenti_web" / "templates"
    frozen_clock.set(at(2025, 3, 3, 9))
    app = make_app()
    agent = app.context("default", "agent", locale="zh_CN")
    issue = app.issues.create(agent, queue="general", title="<script>", reporter="reporter")
    deliver(app)
    frozen_clock.set(at(2025, 3, 3, 12))

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=True)
    page = env.from_string('{% from "_plugin_badges.html" import plugin_badges %}{{ plugin_badges(badges) }}')
    html = page.render(badges=app.hooks.issue_badges([issue], agent, app))

    assert 'data-badge="sla.first_response"' in html
    assert "首次响应：已超时" in html
    assert "解决：剩余 5 小时" in html
    assert "tone-danger" in html
    # On the issue page (one issue) the tooltip carries the explanation of the clock.
    assert "计入工作时间 3 小时" in html


def test_reopen_and_priority_change_from_history(make_app, frozen_clock):
    frozen_clock.set(at(2025, 3, 3, 9))
    app = make_app()
    agent = app.context("default", "agent")
    issue = app.issues.create(agent, queue="general", title="报表导出失败", reporter="reporter")
    frozen_clock.set(at(2025, 3, 3, 11))
    issue = app.issues.transition(agent, issue.id, issue.version, "resolve", fields={"resolution": "已重新导出"})
    frozen_clock.set(at(2025, 3, 4, 9))
    issue = app.issues.transition(agent, issue.id, issue.version, "reopen")
    frozen_clock.set(at(2025, 3, 4, 10))
    app.issues.update(agent, issue.id, issue.version, priority="high")
    deliver(app)

    rows = clocks_of(app, issue.id)
    clocks, _calendar = service_for(app).explain("default", issue.id)

    # 2 h before resolving and 1 h after reopening count; high allows 4 h from creation.
    assert clocks.clocks["resolution"].reopened == 1
    assert rows["resolution"]["elapsed"] == pytest.approx(3 * 3600)
    assert rows["resolution"]["target"] == pytest.approx(4 * 3600)
    assert local(rows["resolution"]["due_at"]) == datetime(2025, 3, 4, 11, 0)


def test_export_has_sla_columns(make_app, frozen_clock):
    import io
    import json

    from wenti.exporting import export_issues
    from wenti.store import IssueQuery

    frozen_clock.set(at(2025, 3, 3, 9))
    app = make_app()
    agent = app.context("default", "agent", locale="en")
    issue = app.issues.create(agent, queue="general", title="导出", reporter="reporter")
    deliver(app)
    frozen_clock.set(at(2025, 3, 3, 10))

    jsonl = io.StringIO()
    csv_out = io.StringIO()
    export_issues(app, agent, IssueQuery(), "jsonl", jsonl)
    export_issues(app, agent, IssueQuery(), "csv", csv_out)

    record = json.loads(jsonl.getvalue().splitlines()[0])
    header = csv_out.getvalue().splitlines()[0].split(",")
    assert record["id"] == issue.id
    assert record["sla.resolution"] == "Resolution: 7 h left"
    assert record["sla.resolution.value"] == "2025-03-03T09:00:00+00:00"
    assert record["sla.first_response.value"] == "2025-03-03T03:00:00+00:00"
    assert "sla.resolution.value" in header


def test_breach_reassigns_to_queue_manager(make_wenti_app, frozen_clock):
    frozen_clock.set(at(2025, 3, 3, 9))
    app = make_wenti_app(
        config_toml="""
[plugins.jobs]
autostart = false

[[plugins.sla.policies]]
key = "hr"
queues = ["hr"]
calendar = "china"
escalations = [{ on = "breached", metric = "first_response", action = "reassign_to_manager" }]

[plugins.sla.policies.targets."*"]
first_response = "1h"
"""
    )
    admin = app.context("default", "admin")
    app.admin.create_queue(admin, "hr", "人事", manager="admin")
    agent = app.context("default", "agent")
    issue = app.issues.create(agent, queue="hr", title="工资条有误", reporter="reporter", assignee="agent")
    deliver(app)

    frozen_clock.set(at(2025, 3, 3, 10, 30))
    notices = service_for(app).check_due()

    assert [(notice.kind, notice.metric) for notice in notices] == [("breached", "first_response")]
    assert app.issues.get(agent, issue.id).assignee == "admin"


def test_imported_issues_get_clocks(make_app, frozen_clock):
    from wenti.services import ImportedIssue
    from wenti.store import IssueQuery

    frozen_clock.set(at(2025, 3, 4, 9))
    app = make_app()
    agent = app.context("default", "agent")
    created = at(2025, 3, 3, 9)
    result = app.issues.import_batch(
        agent,
        [
            ImportedIssue(title="旧问题已解决", priority="high", status="resolved", external_id="OLD-1", created_at=created, resolved_at=created + timedelta(hours=3)),
            ImportedIssue(title="旧问题未解决", external_id="OLD-2", created_at=created),
        ],
        default_queue="general",
    )
    deliver(app)
    resolved_id, open_id = [issue.id for issue in app.issues.list(agent, IssueQuery(sort=("id",))).items]

    resolved = clocks_of(app, resolved_id)
    still_open = clocks_of(app, open_id)

    assert result.counts["imported"] == 2
    assert resolved["resolution"]["status"] == "met"
    assert resolved["resolution"]["elapsed"] == pytest.approx(3 * 3600)
    # Normal priority: 8 h from Monday 09:00 were due Monday 17:00; it is Tuesday now.
    assert still_open["resolution"]["status"] == "breached"
    assert local(still_open["resolution"]["breached_at"]) == datetime(2025, 3, 3, 17, 0)
