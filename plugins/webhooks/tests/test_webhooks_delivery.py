"""Webhook delivery end to end: issue change -> core outbox -> notify queue -> signed POST."""

from __future__ import annotations

from datetime import timedelta

import pytest

from wenti_notify import service_for
from wenti_notify.queue import DEAD, DELIVERED, PENDING
from wenti_webhooks import admin
from wenti_webhooks.signing import new_secret

SECRET_OLD = new_secret()
SECRET_NEW = new_secret()


def _config(url: str, secrets: list[str], events: str = "[]", by_job: bool = False) -> str:
    quoted = ", ".join(f'"{secret}"' for secret in secrets)
    return f"""
[plugins.notify]
dispatch_in_process = false
dispatch_by_job = {"true" if by_job else "false"}

[plugins.webhooks]
enabled = true
timeout_seconds = 0.5

[[plugins.webhooks.endpoints]]
name = "hook"
url = "{url}"
secrets = [{quoted}]
events = {events}
"""


@pytest.fixture
def setup(make_wenti_app, make_receiver, frozen_clock):
    def build(script=(), secrets=(SECRET_OLD,), receiver_secrets=None, events="[]", by_job=False):
        receiver = make_receiver(list(receiver_secrets or secrets), lambda: frozen_clock.now().timestamp(), hang_seconds=1.0)
        receiver.script.extend(script)
        app = make_wenti_app(config_toml=_config(receiver.url, list(secrets), events, by_job))
        return app, receiver

    return build


def _create_issues(app, count):
    ctx = app.context("default", "agent")
    issues = [app.issues.create(ctx, queue="general", title=f"打印机卡纸 {n}") for n in range(count)]
    app.outbox.dispatch_pending()
    return issues


def _deliveries(app):
    ctx = app.context("default", "admin")
    return service_for(app).list_deliveries(ctx, channel="webhook", limit=1000)


def _drive(app, clock, rounds=40, step=timedelta(hours=1)):
    """Dispatch, then move the clock past the next retry, a bounded number of times."""
    dispatcher = service_for(app).dispatcher()
    for _ in range(rounds):
        dispatcher.run_once()
        if all(row.status in (DELIVERED, DEAD) for row in _deliveries(app)):
            return
        clock.advance(step)


def test_hostile_receiver_gets_each_event_once(setup, frozen_clock):
    script = ["500", "timeout", "reset", "302", "500", "reset", "ok", "timeout"]
    app, receiver = setup(script=script)
    issues = _create_issues(app, 5)

    _drive(app, frozen_clock)

    rows = _deliveries(app)
    assert len(rows) == 5
    assert {row.status for row in rows} == {DELIVERED}
    assert len(receiver.effects) == 5
    assert receiver.rejected == []
    assert receiver.duplicates >= 1
    keys = {effect["data"]["issue"]["key"] for effect in receiver.effects.values()}
    assert keys == {issue.key for issue in issues}
    assert {effect["type"] for effect in receiver.effects.values()} == {"issue.created"}


def test_retry_keeps_id_and_body(setup, frozen_clock):
    app, receiver = setup(script=["500", "500"])
    _create_issues(app, 1)

    _drive(app, frozen_clock)

    ids = {request["headers"]["webhook-id"] for request in receiver.requests}
    bodies = {request["body"] for request in receiver.requests}
    timestamps = [int(request["headers"]["webhook-timestamp"]) for request in receiver.requests]
    assert len(receiver.requests) == 3
    assert len(ids) == 1
    assert len(bodies) == 1
    assert timestamps == sorted(timestamps)
    assert timestamps[0] < timestamps[-1]


def test_rotation_signs_for_old_and_new_receivers(setup, make_receiver, frozen_clock):
    app, receiver_old = setup(secrets=(SECRET_OLD, SECRET_NEW), receiver_secrets=[SECRET_OLD])
    _create_issues(app, 1)
    _drive(app, frozen_clock)

    signature_header = receiver_old.requests[0]["headers"]["webhook-signature"]
    receiver_new = make_receiver([SECRET_NEW], lambda: frozen_clock.now().timestamp())
    receiver_new.accept(receiver_old.requests[0]["headers"], receiver_old.requests[0]["body"])

    assert signature_header.count("v1,") == 2
    assert len(receiver_old.effects) == 1
    assert len(receiver_new.effects) == 1


def test_wrong_secret_is_rejected_by_receiver(setup, frozen_clock):
    app, receiver = setup(secrets=(SECRET_OLD,), receiver_secrets=[SECRET_NEW])
    _create_issues(app, 1)

    service_for(app).dispatcher().run_once()

    row = _deliveries(app)[0]
    assert row.status == PENDING
    assert row.attempts == 1
    assert "HTTP 401" in row.last_error
    assert receiver.rejected == ["no v1 signature in webhook-signature matches the secret"]


def test_gone_disables_endpoint(setup, frozen_clock):
    app, receiver = setup(script=["410"])
    _create_issues(app, 1)
    ctx = app.context("default", "admin")

    service_for(app).dispatcher().run_once()
    _create_issues(app, 1)

    rows = _deliveries(app)
    status = admin.endpoint_status(app, ctx)
    assert [row.status for row in rows] == [DEAD]
    assert "410" in rows[0].last_error
    assert status == [{"name": "hook", "url": receiver.url, "events": [], "disabled": True}]

    admin.enable(app, ctx, "hook")
    _create_issues(app, 1)
    service_for(app).dispatcher().run_once()
    assert len(receiver.effects) == 1


def test_throttled_delivery_is_postponed_without_attempt(setup, frozen_clock):
    app, receiver = setup(script=["429"])
    _create_issues(app, 1)
    dispatcher = service_for(app).dispatcher()

    dispatcher.run_once()
    row = _deliveries(app)[0]
    assert row.status == PENDING
    assert row.attempts == 0
    assert row.next_attempt_at == frozen_clock.now() + timedelta(seconds=120)

    frozen_clock.advance(seconds=119)
    assert dispatcher.run_once().sent == 0
    frozen_clock.advance(seconds=1)
    dispatcher.run_once()
    assert _deliveries(app)[0].status == DELIVERED


def test_schedule_ends_dead_after_a_day(setup, frozen_clock):
    app, receiver = setup(script=["500"] * 20)
    _create_issues(app, 1)
    started = frozen_clock.now()

    _drive(app, frozen_clock, rounds=60, step=timedelta(minutes=30))

    row = _deliveries(app)[0]
    assert row.status == DEAD
    assert row.attempts == 8
    assert len(receiver.requests) == 8
    elapsed = frozen_clock.now() - started
    assert timedelta(hours=21) <= elapsed <= timedelta(hours=27)

    ctx = app.context("default", "admin")
    assert service_for(app).retry(ctx, row.id) is True
    receiver.script.clear()
    service_for(app).dispatcher().run_once()
    assert _deliveries(app)[0].status == DELIVERED


def test_delivery_log_and_manual_redelivery(setup, frozen_clock):
    app, receiver = setup(script=["500"])
    _create_issues(app, 1)
    ctx = app.context("default", "admin")
    _drive(app, frozen_clock)

    log = admin.delivery_log(app, ctx, "hook")
    assert [entry["succeeded"] for entry in log] == [True, False]
    assert log[1]["status_code"] == 500

    again = admin.redeliver(app, ctx, log[0]["id"])
    assert again["manual"] is True
    assert again["succeeded"] is True
    assert again["message_id"] == log[0]["message_id"]
    assert receiver.duplicates == 1
    assert len(receiver.effects) == 1


def test_agent_cannot_read_delivery_log(setup):
    app, _receiver = setup()
    ctx = app.context("default", "agent")

    with pytest.raises(admin.PermissionDenied):
        admin.delivery_log(app, ctx)


def test_endpoint_filter_by_event_kind(setup, frozen_clock):
    app, receiver = setup(events='["resolved"]')
    _create_issues(app, 2)

    service_for(app).dispatcher().run_once()

    assert _deliveries(app) == []
    assert receiver.requests == []


def test_notify_dispatch_job_sends_when_enabled(setup, frozen_clock):
    import wenti_notify

    jobs = {job.name: job for job in wenti_notify.register_jobs()}
    idle_app, idle_receiver = setup()
    app, receiver = setup(by_job=True)
    _create_issues(idle_app, 1)
    _create_issues(app, 2)

    jobs["notify.dispatch"].run(idle_app, {})
    jobs["notify.dispatch"].run(app, {})

    assert idle_receiver.requests == []

    assert jobs["notify.dispatch"].cron == "* * * * *"
    assert {row.status for row in _deliveries(app)} == {DELIVERED}
    assert len(receiver.effects) == 2
