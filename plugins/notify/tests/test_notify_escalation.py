"""SLA events route to the people that the `to` of their `notify` escalations names."""

from __future__ import annotations

import pytest

from wenti import hookimpl
from wenti.records import Notifier
from wenti_notify import service_for

CONFIG = """
[plugins.jobs]
autostart = false

[plugins.notify]
dispatch_in_process = false
default_channels = ["inbox"]
"""


class Inbox:
    """A personal channel that stores each message it receives."""

    personal = True
    digest = False

    def __init__(self) -> None:
        self.messages: list[dict] = []

    def __call__(self, message: dict, app: object) -> None:
        self.messages.append(message)


class InboxPlugin:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    @hookimpl
    def register_notifiers(self) -> list[Notifier]:
        return [Notifier(name="inbox", send=self.inbox)]


@pytest.fixture
def app(make_wenti_app):
    """Build an app whose general queue has agent as assignee and zhao as manager, plus wang (agent) and qian (admin)."""
    app = make_wenti_app(config_toml=CONFIG, plugins=[(InboxPlugin(Inbox()), "inbox-test")])
    admin = app.context("default", "admin")
    app.admin.create_user(admin, "zhao", "赵六", "queue_manager")
    app.admin.create_user(admin, "wang", "王五", "agent")
    app.admin.create_user(admin, "qian", "钱七", "admin")
    app.admin.update_queue(admin, "general", manager="zhao")
    return app


def recipients_of(app, event_type: str, escalations: list[dict]) -> set[str]:
    """Record an SLA event with `escalations` on a new issue; return who gets a delivery for it."""
    agent = app.context("default", "agent")
    issue = app.issues.create(agent, queue="general", title="服务器宕机", assignee="agent", reporter="reporter")
    app.outbox.dispatch_pending()
    sla = app.context("default", "admin")
    event = app.issues.record_event(sla, issue.id, event_type, {"metric": "resolution", "escalations": escalations})
    app.outbox.dispatch_pending()
    rows = service_for(app).list_deliveries(app.context("default", "admin"), limit=1000)
    return {row.recipient for row in rows if row.event_id == event.id}


def notify(to: str, on: str = "breached") -> dict:
    return {"on": on, "action": "notify", "metric": None, "share": None, "to": to}


def test_breach_without_escalation_uses_rules(app):
    assert recipients_of(app, "sla.breached", []) == {"agent", "zhao"}


def test_warning_reaches_named_user(app):
    assert recipients_of(app, "sla.warning", [notify("user:wang", "warning")]) == {"agent", "wang"}


def test_warning_reaches_queue_manager(app):
    assert recipients_of(app, "sla.warning", [notify("role:queue_manager", "warning")]) == {"agent", "zhao"}


def test_breach_reaches_admins_by_role(app):
    recipients = recipients_of(app, "sla.breached", [notify("role:admin")])

    # The admin who recorded the event made the change, so only the other admin hears of it.
    assert recipients == {"agent", "zhao", "qian"}


def test_other_actions_add_nobody(app):
    raise_priority = {"on": "breached", "action": "raise_priority", "metric": "resolution", "share": None, "to": "user:wang"}

    assert recipients_of(app, "sla.breached", [raise_priority]) == {"agent", "zhao"}


def test_unknown_recipient_is_skipped(app, caplog):
    recipients = recipients_of(app, "sla.warning", [notify("team:ops", "warning"), notify("user:wang", "warning")])

    assert recipients == {"agent", "wang"}
    assert "unknown escalation recipient" in caplog.text


def test_reporter_role_is_issue_reporter(app):
    admin = app.context("default", "admin")
    app.admin.create_user(admin, "sun", "孙八", "reporter")

    recipients = recipients_of(app, "sla.breached", [notify("role:reporter")])

    assert recipients == {"agent", "zhao", "reporter"}
