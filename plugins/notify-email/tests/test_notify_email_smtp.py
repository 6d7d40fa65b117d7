"""E-mail notifications through aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import pytest

from wenti_notify import service_for
from wenti_notify.queue import DEAD, DELIVERED, PENDING
from wenti_notify_email.mail import THREAD_ROOT

USERNAME = "wenti"
PASSWORD = "s3cret-口令"


def _config(port, ca_path, mode, password=PASSWORD):
    return f"""
[plugins.notify]
dispatch_in_process = false
base_url = "https://wenti.example.com"

[plugins.notify-email]
enabled = true
host = "127.0.0.1"
port = {port}
security = "{mode}"
username = "{USERNAME}"
password = "{password}"
from_address = "helpdesk@example.com"
from_name = "IT 服务台"
reply_address = "helpdesk+{{key}}@example.com"
message_id_domain = "wenti.example.com"
ca_file = "{ca_path}"
timeout_seconds = 5
"""


@pytest.fixture
def mail_app(make_wenti_app, make_smtp):
    def build(mode="starttls", password=PASSWORD, port=None):
        smtp = make_smtp(mode)
        app = make_wenti_app(config_toml=_config(port or smtp.port, smtp.ca_path, mode, password))
        admin = app.context("default", "admin")
        app.admin.update_user(admin, "reporter", email="zhang@example.com", locale="zh_CN")
        app.admin.update_user(admin, "agent", email="li@example.com", locale="en")
        return app, smtp

    return build


def _reported_and_answered(app, internal_note=False):
    reporter = app.context("default", "reporter")
    agent = app.context("default", "agent")
    issue = app.issues.create(reporter, queue="general", title="打印机卡纸", assignee=None)
    app.outbox.dispatch_pending()
    app.issues.comment(agent, issue.id, "请重启打印机后再试。", visibility="public")
    if internal_note:
        app.issues.comment(agent, issue.id, "内部备注：硬件可能坏了", visibility="internal")
    app.outbox.dispatch_pending()
    return issue


def _rows(app):
    return service_for(app).list_deliveries(app.context("default", "admin"), channel="email", limit=100)


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_reply_mail_threads_and_carries_key(mail_app, mode):
    app, smtp = mail_app(mode)
    issue = _reported_and_answered(app)

    service_for(app).dispatcher().run_once()

    assert [row.status for row in _rows(app)] == [DELIVERED]
    assert len(smtp.mailbox.received) == 1
    received = smtp.mailbox.received[0]
    mail = received["message"]
    assert received["tls"] is True
    assert received["rcpt"] == ["zhang@example.com"]
    assert issue.key in mail["Subject"]
    assert "请重启打印机后再试。" in mail.get_body(("plain",)).get_content()
    assert "请重启打印机后再试。" in mail.get_body(("html",)).get_content()
    assert mail["Reply-To"] == f"helpdesk+{issue.key}@example.com"
    assert mail["Message-ID"] == f"<{_rows(app)[0].message_id}@wenti.example.com>"
    root = THREAD_ROOT.fullmatch(mail["In-Reply-To"])
    assert root is not None
    assert root["issue"] == str(issue.id)
    assert mail["References"] == mail["In-Reply-To"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert "https://wenti.example.com/issues/" in mail.get_body(("plain",)).get_content()


def test_internal_note_is_not_mailed_to_reporter(mail_app):
    app, smtp = mail_app()
    _reported_and_answered(app, internal_note=True)

    service_for(app).dispatcher().run_once()

    bodies = [item["message"].get_body(("plain",)).get_content() for item in smtp.mailbox.received]
    recipients = [item["rcpt"] for item in smtp.mailbox.received]
    assert recipients == [["zhang@example.com"]]
    assert all("内部备注" not in body for body in bodies)


def test_resend_keeps_message_id(mail_app):
    app, smtp = mail_app()
    _reported_and_answered(app)
    row = _rows(app)[0]
    from wenti_notify_email.channel import channel

    channel(row.message, app)
    channel(row.message, app)

    ids = [item["message"]["Message-ID"] for item in smtp.mailbox.received]
    assert len(ids) == 2
    assert ids[0] == ids[1]


def test_wrong_password_is_dead_with_reason(mail_app):
    app, smtp = mail_app(password="wrong")
    _reported_and_answered(app)

    service_for(app).dispatcher().run_once()

    row = _rows(app)[0]
    assert row.status == DEAD
    assert "refused the login of 'wenti'" in row.last_error
    assert "535" in row.last_error
    assert smtp.mailbox.received == []


def test_refused_recipient_is_dead(mail_app):
    app, smtp = mail_app()
    smtp.mailbox.refuse.add("zhang@example.com")
    _reported_and_answered(app)

    service_for(app).dispatcher().run_once()

    row = _rows(app)[0]
    assert row.status == DEAD
    assert "550" in row.last_error


def test_server_down_is_retried(mail_app, unused_port):
    app, _smtp = mail_app(port=unused_port)
    _reported_and_answered(app)

    service_for(app).dispatcher().run_once()

    row = _rows(app)[0]
    assert row.status == PENDING
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error


def test_config_rejects_bad_values():
    from wenti_notify_email.config import EmailConfig

    with pytest.raises(ValueError, match="security = 'ssl' is unknown"):
        EmailConfig(security="ssl")
    with pytest.raises(ValueError, match="password is missing"):
        EmailConfig(username="u")
    with pytest.raises(ValueError, match="not an e-mail address"):
        EmailConfig(from_address="helpdesk")
