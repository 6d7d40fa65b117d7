"""SIGKILL the dispatcher process mid-delivery, again and again: nothing lost, no effect twice.

The parent process queues deliveries in a SQLite file and runs the receiver. A
child process runs the notify dispatcher against the same file and is killed at
a random moment while it sends, several times. A last child finishes the work. Leases are one
second long so a killed child's claimed deliveries come back quickly.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

from wenti_notify import service_for
from wenti_notify.queue import DELIVERED
from wenti_webhooks.signing import new_secret

SECRET = new_secret()
EVENTS = 40
KILLS = 4

CHILD = textwrap.dedent(
    """
    import sys, time
    from wenti.clock import SystemClock
    from wenti.testing import build_app
    from wenti_notify import service_for

    app = build_app(sys.argv[1], config_toml=open(sys.argv[2], encoding="utf-8").read(), clock=SystemClock(), tenant=None)
    dispatcher = service_for(app).dispatcher()
    mode = sys.argv[3]
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        result = dispatcher.run_once()
        if mode == "finish" and result.sent == 0:
            counts = service_for(app).counts(app.context("default", "admin"))
            if counts["pending"] == 0 and counts["sending"] == 0:
                break
            time.sleep(0.2)
    app.close()
    """
)


def _config(url: str) -> str:
    return f"""
[plugins.notify]
dispatch_in_process = false
lease_seconds = 1
batch_size = 10

[plugins.webhooks]
enabled = true
timeout_seconds = 2

[[plugins.webhooks.endpoints]]
name = "crash"
url = "{url}"
secrets = ["{SECRET}"]
"""


def test_sigkill_loses_nothing_and_repeats_no_effect(make_wenti_app, make_receiver, tmp_path):
    receiver = make_receiver([SECRET], time.time)
    # A slow receiver keeps each request in flight long enough for kills to land mid-delivery.
    receiver.delay_seconds = 0.03
    config = _config(receiver.url)
    data_dir = tmp_path / "instance"
    app = make_wenti_app(config_toml=config, data_dir=data_dir)
    ctx = app.context("default", "agent")
    for number in range(EVENTS):
        app.issues.create(ctx, queue="general", title=f"断电 {number}")
    app.outbox.dispatch_pending()
    assert len(service_for(app).list_deliveries(app.context("default", "admin"), limit=1000)) == EVENTS

    config_file = tmp_path / "child.toml"
    config_file.write_text(config, encoding="utf-8")
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    environment = dict(os.environ)
    rng = random.Random(20260302)

    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, str(script), str(data_dir), str(config_file), "run"], env=environment, stdout=subprocess.PIPE
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        # Kill only once this child is sending, so every kill lands mid-delivery.
        seen_before = len(receiver.requests)
        deadline = time.monotonic() + 20
        while len(receiver.requests) == seen_before and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.1))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
    kills_with_progress = len(receiver.requests)

    finisher = subprocess.run(
        [sys.executable, str(script), str(data_dir), str(config_file), "finish"], env=environment, timeout=120
    )
    assert finisher.returncode == 0

    rows = service_for(app).list_deliveries(app.context("default", "admin"), limit=1000)
    assert {row.status for row in rows} == {DELIVERED}
    assert len(rows) == EVENTS
    assert len(receiver.effects) == EVENTS
    assert receiver.rejected == []
    assert kills_with_progress > 0
    assert len(receiver.requests) >= EVENTS
    with sqlite3.connect(data_dir / "wenti.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
