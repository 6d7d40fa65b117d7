"""Events delivered when a command exits: a time limit, no delivery after Ctrl-C, and `wenti outbox deliver`."""

from __future__ import annotations

import time

import click
import pytest
from click.testing import CliRunner

from wenti.cli import cli
from wenti.cli import state as cli_state
from wenti.cli.state import CliState, deliver_pending_events
from wenti.hookspecs import hookimpl
from wenti.records import CliCommand

SQL_ONLY = '[plugins]\nenabled = ["sql"]\n'

NOTE = "Some events are still waiting for delivery to plugins"


class SlowListener:
    """Receives every issue event and takes a little time for each, like a notifier calling out."""

    events: list[str] = []

    @hookimpl
    def issue_event(self, event, app):
        time.sleep(0.02)
        SlowListener.events.append(event.type)


class CreateThenInterrupt:
    """A plugin command that creates an issue and is then stopped with Ctrl-C."""

    @hookimpl
    def register_commands(self):
        @click.command("create-and-stop")
        @click.pass_obj
        def create_and_stop(state):
            state.app().issues.create(state.context(), title="中断前创建")
            raise KeyboardInterrupt

        return [CliCommand("create-and-stop", create_and_stop)]


@pytest.fixture
def app(make_wenti_app):
    SlowListener.events = []
    return make_wenti_app(config_toml=SQL_ONLY, plugins=[(SlowListener(), "slow"), (CreateThenInterrupt(), "stopper")])


def _create(app, count: int) -> None:
    ctx = app.context("default", "agent")
    for number in range(count):
        app.issues.create(ctx, title=f"事件 {number}")


def _run(app, *args: str, user: str = "admin"):
    state = CliState(None, "default", user, "en")
    state.adopt(app, owned=True)
    return CliRunner().invoke(cli, ["--tenant", "default", "--as", user, "--lang", "en", *args], obj=state, prog_name="wenti")


def test_delivery_stops_at_time_limit(app, monkeypatch) -> None:
    _create(app, 40)
    monkeypatch.setattr(cli_state, "DISPATCH_ROUND_LIMIT", 5)

    delivered = deliver_pending_events(app, max_seconds=0.1)

    assert 0 < delivered < 40
    assert len(SlowListener.events) == delivered
    assert app.outbox.has_due()


def test_exit_leaves_the_rest_with_a_note(app, monkeypatch) -> None:
    _create(app, 40)
    monkeypatch.setattr(cli_state, "EXIT_DELIVERY_SECONDS", 0.1)
    monkeypatch.setattr(cli_state, "DISPATCH_ROUND_LIMIT", 5)

    result = _run(app, "queue", "list")

    assert result.exit_code == 0, result.output
    assert NOTE in result.stderr
    assert "wenti outbox deliver" in result.stderr
    assert 0 < len(SlowListener.events) < 40


def test_exit_delivers_everything_within_limit(app) -> None:
    _create(app, 3)

    result = _run(app, "queue", "list")

    assert result.exit_code == 0, result.output
    assert SlowListener.events == ["issue.created"] * 3
    assert NOTE not in result.stderr


def test_interrupted_command_delivers_nothing(app) -> None:
    result = _run(app, "create-and-stop", user="agent")

    assert result.exit_code == 1
    assert "Aborted." in result.stderr
    assert SlowListener.events == []
    assert NOTE in result.stderr


def test_outbox_deliver_sends_everything(app, monkeypatch) -> None:
    _create(app, 40)
    monkeypatch.setattr(cli_state, "EXIT_DELIVERY_SECONDS", 0.01)

    result = _run(app, "outbox", "deliver")

    assert result.exit_code == 0, result.output
    assert "Delivered 40 events to plugins." in result.stdout
    assert len(SlowListener.events) == 40
    assert not app.outbox.has_due()
    assert NOTE not in result.stderr


def test_outbox_deliver_needs_admin(app) -> None:
    _create(app, 2)

    result = _run(app, "outbox", "deliver", user="agent")

    assert result.exit_code != 0
    assert "deliver outbox messages" in result.stderr
