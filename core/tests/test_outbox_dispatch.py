"""The outbox dispatcher: isolation between plugins, retries, dead letters, no double delivery."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from wenti import hookimpl
from wenti.domain import DeliveryStatus


class Recorder:
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    @hookimpl
    def issue_event(self, event, app):
        with self.lock:
            self.events.append(event)


class Failing:
    def __init__(self):
        self.calls = 0
        self.fail = True

    @hookimpl
    def issue_event(self, event, app):
        self.calls += 1
        if self.fail:
            raise RuntimeError("receiver is down")


class Slow:
    def __init__(self, seconds):
        self.seconds = seconds
        self.calls = 0

    @hookimpl
    def issue_event(self, event, app):
        self.calls += 1
        time.sleep(self.seconds)


@pytest.fixture
def app(make_wenti_app):
    # Only the storage plugin: installed notifiers would add their own outbox messages.
    wenti_app = make_wenti_app(enabled_plugins=["sql"])
    registered = []

    def register(obj, name):
        wenti_app.plugins.register(obj, name)
        registered.append(name)
        return obj

    wenti_app.register_test_plugin = register
    yield wenti_app
    for name in registered:
        wenti_app.plugins.pm.unregister(name=name)


def _messages(app, status=None):
    ctx = app.context("default", "admin")
    return app.outbox.list(ctx, status)


def test_issue_event_reaches_every_plugin_despite_a_failing_one(app):
    recorder = app.register_test_plugin(Recorder(), "recorder")
    failing = app.register_test_plugin(Failing(), "failing")
    agent = app.context("default", "agent")

    issue = app.issues.create(agent, title="设备故障")
    delivered = app.outbox.dispatch_pending()

    assert app.issues.get(agent, issue.id).title == "设备故障"
    assert delivered == 1
    assert [event.issue_id for event in recorder.events] == [issue.id]
    assert recorder.events[0].type == "issue.created"
    assert failing.calls == 1
    pending = _messages(app, "pending")
    assert [(m.plugin, m.attempts) for m in pending] == [("failing", 1)]
    assert "receiver is down" in pending[0].last_error
    assert pending[0].next_attempt_at > app.clock.now()


def test_delivered_event_is_not_delivered_again(app):
    recorder = app.register_test_plugin(Recorder(), "recorder")
    agent = app.context("default", "agent")
    app.issues.create(agent, title="x")

    app.outbox.dispatch_pending()
    app.outbox.dispatch_pending()

    assert len(recorder.events) == 1
    assert [m.status for m in _messages(app)] == [DeliveryStatus.DELIVERED]


def test_failures_back_off_then_become_dead_letters(app, frozen_clock):
    failing = app.register_test_plugin(Failing(), "failing")
    agent = app.context("default", "agent")
    app.issues.create(agent, title="x")
    max_attempts = app.config.outbox.max_attempts

    waits = []
    for _ in range(max_attempts + 3):
        app.outbox.dispatch_pending()
        pending = _messages(app, "pending")
        if not pending:
            break
        waits.append(pending[0].next_attempt_at - frozen_clock.now())
        app.outbox.dispatch_pending()  # not due yet: must not call the plugin again
        frozen_clock.set(pending[0].next_attempt_at)

    dead = _messages(app, "dead")
    assert failing.calls == max_attempts
    assert len(dead) == 1
    assert dead[0].attempts == max_attempts
    # Each ceiling doubles and jitter keeps at least half of it, so waits never shrink
    # while they stay under the maximum delay.
    assert waits == sorted(waits)
    assert waits[-1] > waits[0]
    assert all(wait <= timedelta(seconds=app.config.outbox.max_delay_seconds) for wait in waits)


def test_admin_retries_dead_letter(app, frozen_clock):
    failing = app.register_test_plugin(Failing(), "failing")
    agent = app.context("default", "agent")
    admin = app.context("default", "admin")
    app.issues.create(agent, title="x")
    for _ in range(app.config.outbox.max_attempts):
        app.outbox.dispatch_pending()
        frozen_clock.advance(seconds=app.config.outbox.max_delay_seconds + 1)
    [dead] = _messages(app, "dead")

    failing.fail = False
    app.outbox.retry(admin, dead.id)
    app.outbox.dispatch_pending()

    assert _messages(app, "dead") == []
    assert [m.status for m in _messages(app)] == [DeliveryStatus.DELIVERED]
    with pytest.raises(Exception):
        app.outbox.retry(agent, dead.id)


def test_slow_plugin_times_out_without_blocking_others(app):
    app.config.outbox.timeout_seconds = 0.3
    recorder = app.register_test_plugin(Recorder(), "recorder")
    slow = app.register_test_plugin(Slow(2.0), "slow")
    agent = app.context("default", "agent")

    started = time.monotonic()
    app.issues.create(agent, title="x")
    create_seconds = time.monotonic() - started
    app.outbox.dispatch_pending()

    assert create_seconds < 1.0
    assert len(recorder.events) == 1
    assert slow.calls == 1
    [pending] = _messages(app, "pending")
    assert pending.plugin == "slow"
    assert "timed out" in pending.last_error


def test_two_dispatchers_deliver_each_message_once(app):
    recorder = app.register_test_plugin(Recorder(), "recorder")
    agent = app.context("default", "agent")
    for n in range(20):
        app.issues.create(agent, title=f"issue {n}")

    threads = [threading.Thread(target=app.outbox.dispatch_pending) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    ids = [event.id for event in recorder.events]
    assert len(ids) == 20
    assert len(set(ids)) == 20


def test_retry_unknown_message_is_not_found(app):
    from wenti.errors import NotFound

    admin = app.context("default", "admin")

    with pytest.raises(NotFound) as error:
        app.outbox.retry(admin, 999999)

    assert "999999" in str(error.value)
