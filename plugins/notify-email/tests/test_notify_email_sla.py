"""An SLA breach recorded by a plugin reaches the assignee and the queue manager by e-mail."""

from __future__ import annotations

from wenti_notify import service_for


def test_breach_mails_assignee_and_manager(make_wenti_app, make_smtp):
    smtp = make_smtp("starttls")
    app = make_wenti_app(
        config_toml=f"""
[plugins.notify]
dispatch_in_process = false

[plugins.notify-email]
enabled = true
port = {smtp.port}
username = "wenti"
password = "s3cret-口令"
ca_file = "{smtp.ca_path}"
"""
    )
    admin = app.context("default", "admin")
    app.admin.update_user(admin, "agent", email="li@example.com")
    app.admin.create_user(admin, "zhao", "赵六", "queue_manager", email="boss@example.com")
    with app.uow("default") as uow:
        queue = uow.queues.get("general")
        queue.manager = "zhao"
        uow.queues.update(queue)
        uow.commit()
    issue = app.issues.create(app.context("default", "agent"), queue="general", title="服务器宕机", assignee="agent", reporter="reporter")
    app.outbox.dispatch_pending()
    service_for(app).dispatcher().run_once()
    smtp.mailbox.received.clear()

    app.issues.record_event(admin, issue.id, "sla.breached", {"metric": "resolution", "due_at": "2026-03-02T09:00:00+00:00"})
    app.outbox.dispatch_pending()
    service_for(app).dispatcher().run_once()

    recipients = sorted(rcpt for item in smtp.mailbox.received for rcpt in item["rcpt"])
    bodies = [item["message"].get_body(("plain",)).get_content() for item in smtp.mailbox.received]
    assert recipients == ["boss@example.com", "li@example.com"]
    assert all("解决期限：2026-03-02 17:00。" in body for body in bodies)
