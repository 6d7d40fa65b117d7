from __future__ import annotations

import pytest

from wenti_notify.config import NotifyConfig, QueueChannel
from wenti_notify.routing import AGENT, REPORTER, SYSTEM, Person, Preference, RoutingInput, event_kind, route

PEOPLE = {
    "zhang": Person("zhang", "张三", "reporter", "zhang@example.com"),
    "li": Person("li", "李四", "agent", "li@example.com", "en"),
    "wang": Person("wang", "王五", "agent", "wang@example.com"),
    "zhao": Person("zhao", "赵六", "queue_manager", "zhao@example.com"),
    "nomail": Person("nomail", "无邮箱", "agent", None),
    "gone": Person("gone", "离职", "agent", "gone@example.com", active=False),
}


def _input(kind, actor="wang", **overrides):
    values = dict(
        kind=kind,
        queue="it",
        actor=actor,
        reporter="zhang",
        assignee="li",
        manager="zhao",
        queue_members=("li", "wang", "nomail", "gone"),
        watchers=("zhang", "wang"),
        people=PEOPLE,
        preferences={},
    )
    values.update(overrides)
    return RoutingInput(**values)


def _recipients(targets, channel="email"):
    return sorted(target.recipient for target in targets if target.channel == channel)


def test_created_goes_to_assignee_and_members_not_actor():
    targets = route(_input("created"), NotifyConfig(), personal_channels=["email"])

    assert _recipients(targets) == ["li"]


def test_public_comment_reaches_reporter_and_watchers():
    targets = route(_input("commented", actor="li"), NotifyConfig(), personal_channels=["email"])

    assert _recipients(targets) == ["wang", "zhang"]
    audiences = {target.recipient: target.audience for target in targets}
    assert audiences == {"zhang": REPORTER, "wang": AGENT}


def test_internal_note_never_reaches_reporter():
    config = NotifyConfig(rules={"note": ["reporter", "assignee", "watchers"]})

    targets = route(_input("note", actor="wang"), config, personal_channels=["email"])

    assert _recipients(targets) == ["li"]


def test_breach_escalates_to_manager():
    targets = route(_input("sla_breached", actor="system"), NotifyConfig(), personal_channels=["email"])

    assert _recipients(targets) == ["li", "zhao"]


def test_opt_out_and_muted_kinds_are_respected():
    preferences = {"zhang": Preference(opted_out=True), "wang": Preference(muted=("commented",))}

    targets = route(_input("commented", actor="li", preferences=preferences), NotifyConfig(), personal_channels=["email"])

    assert targets == []


def test_preferred_channel_must_be_installed():
    preferences = {"zhang": Preference(channels=("sms", "email"))}

    targets = route(_input("resolved", actor="li", preferences=preferences), NotifyConfig(), personal_channels=["email"])

    assert [(target.channel, target.recipient) for target in targets] == [("email", "zhang"), ("email", "wang")]


def test_recipient_locale_comes_from_user():
    targets = route(_input("assigned", actor="wang"), NotifyConfig(), personal_channels=["email"])

    assert [(target.recipient, target.locale) for target in targets] == [("li", "en")]


def test_queue_channel_and_subscribers():
    config = NotifyConfig(queue_channels=[QueueChannel(queue="it", channel="dingtalk", target="it-group")])

    targets = route(_input("created"), config, personal_channels=[], subscribers={"webhook": ["erp"]})

    assert [(t.channel, t.recipient, t.audience) for t in targets] == [
        ("dingtalk", "it-group", AGENT),
        ("webhook", "erp", SYSTEM),
    ]


def test_queue_channel_skips_notes_unless_allowed():
    closed = QueueChannel(queue="it", channel="wecom", target="g", events=["note"])
    open_channel = QueueChannel(queue="it", channel="wecom", target="h", events=["note"], include_internal=True)

    targets = route(_input("note"), NotifyConfig(queue_channels=[closed, open_channel]), personal_channels=[])

    assert [(t.recipient, t.include_internal) for t in targets] == [("h", True)]


@pytest.mark.parametrize(
    ("event_type", "data", "category", "kind"),
    [
        ("issue.created", {}, None, "created"),
        ("issue.commented", {"visibility": "internal"}, None, "note"),
        ("issue.commented", {"visibility": "public"}, None, "commented"),
        ("issue.transitioned", {}, "resolved", "resolved"),
        ("issue.transitioned", {}, "closed", "resolved"),
        ("issue.transitioned", {}, "waiting", "transitioned"),
        ("sla.breached", {}, None, "sla_breached"),
        ("issue.linked", {}, None, None),
        ("issue.imported", {}, None, None),
    ],
)
def test_event_kind(event_type, data, category, kind):
    assert event_kind(event_type, data, category) == kind


def test_config_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown event kind 'closed'"):
        NotifyConfig(rules={"closed": ["reporter"]})
    with pytest.raises(ValueError, match="unknown audiences \\['boss'\\]"):
        NotifyConfig(rules={"created": ["boss"]})
    with pytest.raises(ValueError, match="unknown event kinds"):
        QueueChannel(queue="it", channel="wecom", target="g", events=["everything"])


def test_templates_render_in_recipient_locale():
    from wenti_notify.templates import Facts, render, render_digest

    facts = Facts(
        kind="resolved", key="IT-7", title="打印机卡纸", queue="it", status="已解决", priority="high",
        reporter="张三", assignee="李四", actor="李四", url="https://wenti.example.com/issues/7", comment="已更换硒鼓",
    )

    chinese = render(facts, "zh_CN")
    english = render(facts, "en")

    assert chinese["subject"] == "[IT-7] 已解决：打印机卡纸"
    assert english["subject"] == "[IT-7] Resolved: 打印机卡纸"
    assert "优先级: 高" in chinese["text"]
    assert "Priority: High" in english["text"]
    assert "已更换硒鼓" in chinese["html"]
    assert "https://wenti.example.com/issues/7" in chinese["markdown"]
    digest = render_digest([dict(chinese, id="a", link="u1", locale="zh_CN"), dict(chinese, id="b", link="u2", locale="zh_CN")])
    assert digest["subject"] == "2 条更新"
    assert [item["id"] for item in digest["items"]] == ["a", "b"]


def test_sla_message_names_metric_and_due_time():
    from wenti_notify.templates import Facts, render

    facts = Facts(
        kind="sla_breached", key="IT-7", title="服务器宕机", queue="it", status="处理中", priority="critical",
        reporter="张三", assignee="李四", actor="system", url="https://wenti.example.com/issues/7",
        sla_metric="resolution", sla_due="2026-03-02 17:00",
    )

    chinese = render(facts, "zh_CN")
    english = render(facts, "en")

    assert chinese["subject"] == "[IT-7] 服务级别 SLA 已超时：服务器宕机"
    assert "解决期限：2026-03-02 17:00。" in chinese["text"]
    assert "Resolution is due at 2026-03-02 17:00." in english["text"]
