"""The delivery queue and dispatcher on a real SQLite file, without an app."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine

from wenti.clock import FrozenClock
from wenti_notify import queue
from wenti_notify.dispatcher import Dispatcher, DispatchSettings
from wenti_notify.schema import metadata

START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'notify.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _transaction(engine):
    @contextmanager
    def transaction(_tenant):
        with engine.begin() as conn:
            yield conn

    return transaction


def _item(event_id, recipient="ops", channel="wecom"):
    message = {"subject": f"subject {event_id}", "text": "t", "markdown": "m", "html": "h", "link": f"http://x/{event_id}"}
    return queue.NewDelivery("default", event_id, "issue.created", 1, channel, recipient, message)


class Recorder:
    """A channel that records the messages it gets and raises the queued failures first."""

    def __init__(self, digest=False, failures=()):
        self.digest = digest
        self.failures = list(failures)
        self.sent = []

    def __call__(self, message, app):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


class Throttle(Exception):
    retry_after = 30


class Permanent(Exception):
    permanent = True


def test_enqueue_twice_adds_nothing(engine):
    now = START
    with engine.begin() as conn:
        assert queue.enqueue(conn, [_item("e1"), _item("e2")], now) == 2
    with engine.begin() as conn:
        assert queue.enqueue(conn, [_item("e1"), _item("e2"), _item("e3")], now) == 1
        rows = queue.list_deliveries(conn, "default")
    assert len(rows) == 3
    assert len({row.message_id for row in rows}) == 3
    assert rows[0].message["id"] == rows[0].message_id


def test_message_id_is_stable():
    assert queue.message_id_for("t", "e", "c", "r") == queue.message_id_for("t", "e", "c", "r")
    assert queue.message_id_for("t", "e", "c", "r") != queue.message_id_for("t", "e", "c", "r2")


def test_digest_folds_same_recipient(engine):
    clock = FrozenClock(START)
    channel = Recorder(digest=True)
    with engine.begin() as conn:
        queue.enqueue(conn, [_item(f"e{n}") for n in range(5)] + [_item("x", recipient="other")], clock.now())
    dispatcher = Dispatcher(transaction=_transaction(engine), channels={"wecom": channel}, clock=clock)

    result = dispatcher.run_once(["default"])

    assert result.delivered == 6
    assert result.digests == 1
    assert [len(message.get("items", [])) for message in channel.sent] == [5, 0]
    assert channel.sent[0]["kind"] == "digest"


def test_throttle_postpones_without_attempt(engine):
    clock = FrozenClock(START)
    channel = Recorder(failures=[Throttle("busy")])
    with engine.begin() as conn:
        queue.enqueue(conn, [_item("e1")], clock.now())
    dispatcher = Dispatcher(transaction=_transaction(engine), channels={"wecom": channel}, clock=clock)

    assert dispatcher.run_once(["default"]).postponed == 1
    with engine.begin() as conn:
        row = queue.list_deliveries(conn, "default")[0]
    assert (row.status, row.attempts, row.next_attempt_at) == (queue.PENDING, 0, START + timedelta(seconds=30))

    clock.advance(seconds=30)
    assert dispatcher.run_once(["default"]).delivered == 1


def test_permanent_error_is_dead_at_once(engine):
    clock = FrozenClock(START)
    with engine.begin() as conn:
        queue.enqueue(conn, [_item("e1")], clock.now())
    dispatcher = Dispatcher(
        transaction=_transaction(engine), channels={"wecom": Recorder(failures=[Permanent("bad key")])}, clock=clock
    )

    assert dispatcher.run_once(["default"]).dead == 1
    with engine.begin() as conn:
        row = queue.list_deliveries(conn, "default")[0]
    assert row.status == queue.DEAD
    assert row.last_error == "Permanent: bad key"


def test_failures_follow_schedule_then_dead(engine):
    clock = FrozenClock(START)
    channel = Recorder(failures=[RuntimeError("down")] * 3)
    settings = DispatchSettings(retry_schedule=(10, 100), jitter=0.0)
    with engine.begin() as conn:
        queue.enqueue(conn, [_item("e1")], clock.now())
    dispatcher = Dispatcher(transaction=_transaction(engine), channels={"wecom": channel}, clock=clock, settings=settings)

    dispatcher.run_once(["default"])
    clock.advance(seconds=9)
    assert dispatcher.run_once(["default"]).sent == 0
    clock.advance(seconds=1)
    assert dispatcher.run_once(["default"]).failed == 1
    clock.advance(seconds=100)
    assert dispatcher.run_once(["default"]).dead == 1

    with engine.begin() as conn:
        row = queue.list_deliveries(conn, "default")[0]
        assert (row.status, row.attempts) == (queue.DEAD, 3)
        assert queue.retry(conn, "default", row.id, clock.now()) is True
    assert dispatcher.run_once(["default"]).delivered == 1


def test_expired_lease_is_sent_again(engine):
    clock = FrozenClock(START)
    with engine.begin() as conn:
        queue.enqueue(conn, [_item("e1")], clock.now())
        row = queue.due(conn, "default", clock.now(), 10)[0]
        assert queue.claim(conn, row.id, clock.now(), clock.now() + timedelta(seconds=120))
        assert not queue.claim(conn, row.id, clock.now(), clock.now() + timedelta(seconds=120))
    channel = Recorder()
    dispatcher = Dispatcher(transaction=_transaction(engine), channels={"wecom": channel}, clock=clock)

    assert dispatcher.run_once(["default"]).sent == 0
    clock.advance(seconds=120)
    assert dispatcher.run_once(["default"]).delivered == 1
    assert channel.sent[0]["id"] == row.message_id


def test_missing_channel_is_a_failed_attempt(engine):
    clock = FrozenClock(START)
    with engine.begin() as conn:
        queue.enqueue(conn, [_item("e1", channel="sms")], clock.now())
    dispatcher = Dispatcher(transaction=_transaction(engine), channels={}, clock=clock)

    assert dispatcher.run_once(["default"]).failed == 1
    with engine.begin() as conn:
        assert "no notification channel named 'sms'" in queue.list_deliveries(conn, "default")[0].last_error


def test_list_rejects_unknown_status(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="unknown delivery status 'done'"):
        queue.list_deliveries(conn, "default", status="done")
