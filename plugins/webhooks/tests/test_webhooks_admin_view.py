"""The webhook delivery log as an admin view: rows, the status filter, redelivery and the role check."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from wenti.clock import SystemClock
from wenti.errors import PermissionDenied, ValidationFailed
from wenti_notify import service_for
from wenti_webhooks.signing import new_secret

SECRET = new_secret()


@pytest.fixture
def instance(make_wenti_app, make_receiver):
    """An app with one endpoint on a loopback receiver and one delivered webhook."""
    receiver = make_receiver([SECRET], time.time)
    config = f"""
[plugins.notify]
dispatch_in_process = false

[plugins.webhooks]
enabled = true
timeout_seconds = 2

[[plugins.webhooks.endpoints]]
name = "hook"
url = "{receiver.url}"
secrets = ["{SECRET}"]
"""
    app = make_wenti_app(config_toml=config, clock=SystemClock())
    app.issues.create(app.context("default", "agent"), queue="general", title="打印机卡纸")
    app.outbox.dispatch_pending()
    service_for(app).dispatcher().run_once()
    return app, receiver


def view(app):
    (found,) = [item for item in app.hooks.admin_views() if item.name == "webhooks_deliveries"]
    return found


def test_register_admin_views_webhook_log(instance):
    app, _receiver = instance
    admin = app.context("default", "admin", locale="en")
    attempts = view(app)

    rows = attempts.rows(admin, app)
    failed = attempts.rows(admin, app, status="failed")

    assert attempts.plugin == "webhooks"
    assert len(rows) == 1
    assert rows[0]["endpoint"] == "hook"
    assert rows[0]["status"] == "succeeded"
    assert 200 <= rows[0]["status_code"] < 300
    assert isinstance(rows[0]["attempted_at"], datetime)
    assert rows[0]["manual"] is False
    assert failed == []
    assert attempts.translate("Redeliver", "zh_CN") == "重新投递"


def test_redeliver_action_adds_manual_attempt(instance):
    app, receiver = instance
    admin = app.context("default", "admin", locale="en")
    attempts = view(app)
    (first,) = attempts.rows(admin, app)

    message = attempts.actions[0].run(admin, app, str(first["id"]))
    rows = attempts.rows(admin, app)

    assert message.startswith("Attempt ")
    assert message.endswith(": ok")
    assert [row["manual"] for row in rows] == [True, False]
    assert receiver.duplicates == 1


def test_view_rejects_agent_and_bad_input(instance):
    app, _receiver = instance
    agent = app.context("default", "agent")
    admin = app.context("default", "admin")
    attempts = view(app)

    with pytest.raises(PermissionDenied):
        attempts.rows(agent, app)
    with pytest.raises(PermissionDenied):
        attempts.actions[0].run(agent, app, "abc")
    with pytest.raises(ValidationFailed, match="abc"):
        attempts.actions[0].run(admin, app, "abc")
    with pytest.raises(ValidationFailed, match="lost"):
        attempts.rows(admin, app, status="lost")
