"""A process killed mid-write loses no acknowledged commit and leaves nothing half-written.

This backs the claim that SQLite in WAL mode with `synchronous = NORMAL` survives a
crash of the process. A power loss cannot be simulated here.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from wenti.domain import Tenant
from wenti.store import IssueQuery
from wenti_sql import open_store

CHILD = r"""
import sys, uuid
from datetime import datetime, timezone
from wenti.domain import Event, Issue
from wenti_sql import open_store

store = open_store(sys.argv[1])
now = datetime(2026, 7, 1, tzinfo=timezone.utc)
for number in range(100_000):
    with store.unit_of_work("crash") as uow:
        issue = uow.issues.add(Issue(tenant_id="crash", queue="it", title=f"停电 {number}", reporter="a", status="new", created_at=now))
        uow.events.add(Event(tenant_id="crash", issue_id=issue.id, type="issue.created", actor="a", at=now, id=uuid.uuid4().hex))
        uow.commit()
    # Acknowledge only after the commit returned.
    print(issue.id, flush=True)
"""

KILLS = 3


def test_sigkill_keeps_acknowledged_commits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    store = open_store(url)
    store.upgrade()
    with store.unit_of_work("crash") as uow:
        uow.tenants.add(Tenant(id="crash", name="断电测试"))
        uow.commit()
    store.close()

    rng = random.Random(20261204)
    acknowledged: list[int] = []
    for _ in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", CHILD, url], stdout=subprocess.PIPE)
        assert child.stdout is not None
        for _line in range(rng.randint(20, 60)):
            line = child.stdout.readline()
            assert line, "the writer exited before it was killed"
            acknowledged.append(int(line))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        # Ids printed between the last read and the kill were committed as well.
        acknowledged.extend(int(line) for line in child.stdout.read().split())
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL

    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            issue_ids = set(connection.execute(text("SELECT id FROM wenti_issues WHERE tenant_id = 'crash'")).scalars())
            event_issue_ids = set(connection.execute(text("SELECT issue_id FROM wenti_events WHERE tenant_id = 'crash'")).scalars())
        with store.unit_of_work("crash") as uow:
            count = uow.issues.count(IssueQuery())
    finally:
        store.close()

    assert set(acknowledged) <= issue_ids
    # Every issue has its event and every event its issue: no commit was half-written.
    assert issue_ids == event_issue_ids
    assert count == len(issue_ids)
    # At most the one commit in flight at each kill went unacknowledged.
    assert len(issue_ids) - len(set(acknowledged)) <= KILLS
