"""`wenti webhooks ...` and `wenti notify ...` through the real root command."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from wenti.cli import cli
from wenti.clock import SystemClock
from wenti_notify import service_for
from wenti_webhooks.signing import new_secret

SECRET = new_secret()


@pytest.fixture
def instance(make_wenti_app, make_receiver, tmp_path):
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
    app = make_wenti_app(config_toml=config, data_dir=tmp_path / "instance", clock=SystemClock())
    ctx = app.context("default", "agent")
    app.issues.create(ctx, queue="general", title="打印机卡纸")
    app.outbox.dispatch_pending()
    service_for(app).dispatcher().run_once()
    return tmp_path / "instance" / "wenti.toml", receiver


def _run(config, *args):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def test_cli_lists_endpoints_in_both_languages(instance):
    config, receiver = instance

    english = _run(config, "--lang", "en", "webhooks", "list")
    chinese = _run(config, "--lang", "zh_CN", "webhooks", "list")

    assert english.exit_code == 0, english.output
    assert english.output.split("\t")[:2] == ["hook", "enabled"]
    assert chinese.exit_code == 0, chinese.output
    assert chinese.output.split("\t")[:2] == ["hook", "已启用"]


def test_cli_log_and_redeliver(instance):
    config, receiver = instance

    log = _run(config, "--lang", "en", "webhooks", "log", "hook", "--json")
    attempts = json.loads(log.output)
    again = _run(config, "--lang", "en", "webhooks", "redeliver", str(attempts[0]["id"]))

    assert log.exit_code == 0, log.output
    assert [attempt["succeeded"] for attempt in attempts] == [True]
    assert again.exit_code == 0, again.output
    assert again.output.strip().endswith(": ok")
    assert len(receiver.effects) == 1
    assert receiver.duplicates == 1


def test_cli_notify_deliveries_and_retry(instance):
    config, _receiver = instance

    listed = _run(config, "--lang", "en", "notify", "deliveries", "--json")
    missing = _run(config, "--lang", "en", "notify", "retry", "999")

    rows = json.loads(listed.output)
    assert listed.exit_code == 0, listed.output
    assert [(row["channel"], row["status"]) for row in rows] == [("webhook", "delivered")]
    assert missing.exit_code != 0
    assert "Delivery 999 was not found" in missing.output


def test_cli_rejects_agent_and_makes_secrets(instance):
    config, _receiver = instance

    denied = _run(config, "--lang", "en", "--as", "agent", "webhooks", "log")
    secret = _run(config, "webhooks", "new-secret")

    assert denied.exit_code != 0
    assert "Only admins can manage webhooks" in denied.output
    assert secret.exit_code == 0
    assert secret.output.startswith("whsec_")


def test_cli_preferences_and_watch(instance):
    config, _receiver = instance

    changed = _run(config, "--lang", "en", "--as", "reporter", "notify", "preferences", "--channel", "email", "--mute", "commented")
    shown = _run(config, "--lang", "zh_CN", "--as", "reporter", "notify", "preferences")
    other = _run(config, "--lang", "en", "--as", "reporter", "notify", "preferences", "--user", "agent", "--opt-out")
    watched = _run(config, "--lang", "en", "--as", "agent", "notify", "watch", "1")

    assert changed.exit_code == 0, changed.output
    assert "Muted: commented" in changed.output
    assert shown.exit_code == 0, shown.output
    assert "渠道：email" in shown.output
    assert other.exit_code != 0
    assert "Only queue managers and admins" in other.output
    assert watched.exit_code == 0, watched.output
    assert "You now watch issue" in watched.output
