"""Issue commands through the service layer, on a real SQLite store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from wenti.domain import CommentVisibility, EventType, LinkType, Priority, Role, StateCategory
from wenti.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wenti.store import IssueQuery


@pytest.fixture
def app(wenti_app):
    return wenti_app


@pytest.fixture
def admin(app):
    return app.context("default", "admin")


@pytest.fixture
def agent(app):
    return app.context("default", "agent")


@pytest.fixture
def reporter(app):
    return app.context("default", "reporter")


def _count_rows(app, tenant_id="default"):
    with app.uow(tenant_id) as uow:
        page = uow.issues.list(IssueQuery(limit=1000))
        events = sum(len(uow.events.list(issue.id)) for issue in page.items)
        audit = len(uow.audit.list(limit=10000))
    return len(page.items), events, audit


def test_create_writes_issue_event_and_audit(app, agent):
    issue = app.issues.create(agent, title="打印机卡纸", description="三楼打印机每张都卡纸", priority="high", reporter="reporter")

    assert issue.id is not None
    assert issue.status == "new"
    assert issue.version == 1
    assert issue.priority is Priority.HIGH
    stored = app.issues.get(agent, issue.id)
    assert stored.title == "打印机卡纸"
    assert stored.created_at.tzinfo is not None
    history = app.issues.history(agent, issue.id)
    assert [event.type for event in history] == [EventType.CREATED.value]
    assert history[0].actor == "agent"
    with app.uow("default") as uow:
        actions = [entry.action for entry in uow.audit.list("issue", str(issue.id))]
    assert actions == ["issue.create"]


def test_create_rejects_bad_input_and_writes_nothing(app, agent):
    before = _count_rows(app)

    with pytest.raises(ValidationFailed) as empty_title:
        app.issues.create(agent, title="   ")
    with pytest.raises(ValidationFailed) as bad_priority:
        app.issues.create(agent, title="ok", priority="urgent!!")
    with pytest.raises(ValidationFailed) as bad_queue:
        app.issues.create(agent, title="ok", queue="nope")

    assert "title" in str(empty_title.value).lower()
    assert "urgent!!" in str(bad_priority.value)
    assert "nope" in str(bad_queue.value)
    assert _count_rows(app) == before


def test_same_external_id_returns_existing_issue(app, agent):
    first = app.issues.create(agent, title="邮件来的问题", source="email", external_id="<abc@example.test>")
    second = app.issues.create(agent, title="邮件来的问题", source="email", external_id="<abc@example.test>")

    assert second.id == first.id
    assert app.issues.count(agent, IssueQuery()) == 1


def test_reporter_creates_only_as_self(app, reporter):
    issue = app.issues.create(reporter, title="无法登录")

    assert issue.reporter == "reporter"
    with pytest.raises(PermissionDenied):
        app.issues.create(reporter, title="冒名", reporter="admin")
    with pytest.raises(PermissionDenied):
        app.issues.create(reporter, title="指派", assignee="agent")


def test_reporter_sees_only_own_issues(app, agent, reporter):
    own = app.issues.create(reporter, title="我的问题")
    other = app.issues.create(agent, title="别人的问题")

    visible = app.issues.list(reporter, IssueQuery()).items

    assert [issue.id for issue in visible] == [own.id]
    with pytest.raises(NotFound):
        app.issues.get(reporter, other.id)


def test_stale_version_conflicts_and_changes_nothing(app, agent):
    issue = app.issues.create(agent, title="原标题")
    updated = app.issues.update(agent, issue.id, issue.version, title="新标题")

    with pytest.raises(Conflict) as conflict:
        app.issues.update(agent, issue.id, issue.version, title="过期的修改")

    assert updated.version == issue.version + 1
    assert str(issue.version) in str(conflict.value)
    stored = app.issues.get(agent, issue.id)
    assert stored.title == "新标题"
    assert stored.version == updated.version
    assert [e.type for e in app.issues.history(agent, issue.id)].count(EventType.UPDATED.value) == 1


def test_update_records_before_and_after(app, agent):
    issue = app.issues.create(agent, title="网络慢", priority="normal")

    app.issues.update(agent, issue.id, issue.version, priority="critical", tags=["网络", "门店"])

    event = app.issues.history(agent, issue.id)[-1]
    changes = {change.field: (change.before, change.after) for change in event.changes}
    assert changes["priority"] == ("normal", "critical")
    assert changes["tags"] == ([], ["网络", "门店"])


def test_update_rejects_unknown_field(app, agent):
    issue = app.issues.create(agent, title="x")

    with pytest.raises(ValidationFailed) as error:
        app.issues.update(agent, issue.id, issue.version, status="closed")

    assert "status" in str(error.value)


def test_transition_follows_workflow_and_required_fields(app, agent):
    issue = app.issues.create(agent, title="服务器宕机")

    started = app.issues.transition(agent, issue.id, issue.version, "start")
    with pytest.raises(ValidationFailed) as missing:
        app.issues.transition(agent, started.id, started.version, "resolve")
    resolved = app.issues.transition(agent, started.id, started.version, "resolve", fields={"resolution": "重启服务"})

    assert started.status == "in_progress"
    assert "resolution" in str(missing.value)
    assert resolved.status == "resolved"
    assert resolved.resolved_at is not None
    assert resolved.custom_fields["resolution"] == "重启服务"
    assert app.issues.get(agent, issue.id).version == resolved.version


def test_transition_not_in_workflow_is_rejected(app, agent):
    issue = app.issues.create(agent, title="x")

    with pytest.raises(ValidationFailed) as error:
        app.issues.transition(agent, issue.id, issue.version, "close")

    assert "close" in str(error.value)
    assert app.issues.get(agent, issue.id).status == "new"


def test_reporter_cannot_take_agent_transition(app, agent, reporter):
    issue = app.issues.create(reporter, title="需要帮助")

    with pytest.raises(PermissionDenied):
        app.issues.transition(reporter, issue.id, issue.version, "start")
    allowed = app.issues.allowed_transitions(reporter, issue)

    assert allowed == []


def test_reopen_clears_resolved_time(app, agent):
    issue = app.issues.create(agent, title="x")
    resolved = app.issues.transition(agent, issue.id, issue.version, "resolve", fields={"resolution": "done"})

    reopened = app.issues.transition(agent, issue.id, resolved.version, "reopen")

    assert reopened.status == "in_progress"
    assert reopened.resolved_at is None


def test_assign_needs_agent_and_existing_assignee(app, agent, reporter):
    issue = app.issues.create(agent, title="x")

    assigned = app.issues.assign(agent, issue.id, issue.version, "agent")
    with pytest.raises(ValidationFailed):
        app.issues.assign(agent, issue.id, assigned.version, "nobody")
    with pytest.raises(ValidationFailed):
        app.issues.assign(agent, issue.id, assigned.version, "reporter")

    assert assigned.assignee == "agent"
    own = app.issues.create(reporter, title="y")
    with pytest.raises(PermissionDenied):
        app.issues.assign(reporter, own.id, own.version, "agent")


def test_internal_note_hidden_from_reporter(app, agent, reporter):
    issue = app.issues.create(reporter, title="发票信息有误")
    app.issues.comment(agent, issue.id, "已联系财务", visibility="internal")
    app.issues.comment(agent, issue.id, "正在处理，请稍候")

    seen_by_reporter = app.issues.comments(reporter, issue.id)
    seen_by_agent = app.issues.comments(agent, issue.id)
    reporter_history = app.issues.history(reporter, issue.id)

    assert [c.body for c in seen_by_reporter] == ["正在处理，请稍候"]
    assert {c.visibility for c in seen_by_agent} == {CommentVisibility.INTERNAL, CommentVisibility.PUBLIC}
    assert all(e.data.get("visibility") != "internal" for e in reporter_history)
    with pytest.raises(PermissionDenied):
        app.issues.comment(reporter, issue.id, "我也想写内部备注", visibility="internal")


def test_first_public_reply_sets_first_response(app, agent, reporter, frozen_clock):
    issue = app.issues.create(reporter, title="扫描枪故障")
    app.issues.comment(reporter, issue.id, "补充：型号 X1")
    assert app.issues.get(agent, issue.id).first_responded_at is None

    frozen_clock.advance(minutes=30)
    app.issues.comment(agent, issue.id, "内部：查库存", visibility="internal")
    frozen_clock.advance(minutes=30)
    app.issues.comment(agent, issue.id, "已安排工程师")

    stored = app.issues.get(agent, issue.id)
    assert stored.first_responded_at == frozen_clock.now()
    assert stored.first_responded_at - stored.created_at == timedelta(hours=1)


def test_comment_external_id_dedupes(app, agent):
    issue = app.issues.create(agent, title="x")

    first = app.issues.comment(agent, issue.id, "reply", source="email", external_id="<m1@test>")
    again = app.issues.comment(agent, issue.id, "reply", source="email", external_id="<m1@test>")

    assert again.id == first.id
    assert len(app.issues.comments(agent, issue.id)) == 1


def test_link_issues(app, agent):
    first = app.issues.create(agent, title="a")
    second = app.issues.create(agent, title="b")

    link = app.issues.link(agent, second.id, first.id, "duplicate_of")
    again = app.issues.link(agent, second.id, first.id, LinkType.DUPLICATE_OF)

    assert link.type is LinkType.DUPLICATE_OF
    assert again.id == link.id
    assert [l.target_id for l in app.issues.links(agent, second.id)] == [first.id]
    with pytest.raises(ValidationFailed):
        app.issues.link(agent, first.id, first.id, "related")
    with pytest.raises(ValidationFailed):
        app.issues.link(agent, first.id, second.id, "blocks")


def test_status_category_filter(app, agent):
    open_issue = app.issues.create(agent, title="open")
    done = app.issues.create(agent, title="done")
    app.issues.transition(agent, done.id, done.version, "resolve", fields={"resolution": "ok"})

    open_ids = [i.id for i in app.issues.list(agent, IssueQuery(status_category=(StateCategory.OPEN.value,))).items]
    resolved_ids = [i.id for i in app.issues.list(agent, IssueQuery(status_category=("resolved",))).items]

    assert open_ids == [open_issue.id]
    assert resolved_ids == [done.id]


def test_other_tenant_cannot_read_or_write(app, agent):
    issue = app.issues.create(agent, title="租户 A 的问题")
    app.admin.ensure_tenant("other", "Other Co", admin_username="boss")
    boss = app.context("other", "boss")

    with pytest.raises(NotFound):
        app.issues.get(boss, issue.id)
    with pytest.raises(NotFound):
        app.issues.update(boss, issue.id, issue.version, title="hijack")
    with pytest.raises(NotFound):
        app.issues.comment(boss, issue.id, "hello")

    assert app.issues.list(boss, IssueQuery()).items == []
    assert app.issues.get(agent, issue.id).title == "租户 A 的问题"


def test_role_checks_for_admin_service(app, agent, admin):
    with pytest.raises(PermissionDenied):
        app.admin.create_user(agent, "newbie", "New", Role.AGENT)

    user = app.admin.create_user(admin, "newbie", "新同事", "agent")

    assert user.role is Role.AGENT
    with pytest.raises(ValidationFailed):
        app.admin.create_user(admin, "newbie", "again", "agent")
    with pytest.raises(ValidationFailed):
        app.admin.create_user(admin, "bad name/..", "x", "agent")
    with pytest.raises(ValidationFailed):
        app.admin.create_user(admin, "x2", "x", "superuser")


def test_user_changes_own_profile(app, reporter):
    updated = app.admin.update_own_profile(reporter, locale="en-US", display_name=" 小王 ")

    assert updated.locale == "en"
    assert updated.display_name == "小王"
    assert app.context("default", "reporter").locale == "en"
    with pytest.raises(ValidationFailed):
        app.admin.update_own_profile(reporter, display_name="  ")


def test_reporter_cannot_list_teams(app, reporter, agent):
    with pytest.raises(PermissionDenied):
        app.admin.list_teams(reporter)

    assert app.admin.list_teams(agent) == []


def test_reads_run_beside_an_open_write(app, agent):
    from wenti.domain import Issue

    first = app.issues.create(agent, title="打印机卡纸")

    # The writer holds SQLite's write lock until it leaves the block, uncommitted.
    with app.uow("default") as writer:
        writer.issues.add(Issue(tenant_id="default", queue=first.queue, title="未提交", reporter="agent", status="new", created_at=first.created_at))

        page = app.issues.list(agent, IssueQuery())
        total = app.issues.count(agent, IssueQuery())
        found = app.issues.get(agent, first.id)

    assert [issue.id for issue in page.items] == [first.id]
    assert total == 1
    assert found.title == "打印机卡纸"
