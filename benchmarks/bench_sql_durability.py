"""SQLite durability benchmark: commits per second with synchronous NORMAL and FULL.

wenti's SQLite store always runs in WAL mode; `[storage] sqlite_synchronous`
chooses NORMAL (the default) or FULL. This script measures what FULL costs:

1. Through the store: one unit of work per commit that writes what the service
   layer writes for a new issue (the issue, its history event, an audit row and
   one outbox row), for each setting.
2. Reference: plain `sqlite3` with the same pragmas, one single-row INSERT per
   commit, which separates the store's own overhead from the fsync cost.

Each measurement starts from a fresh database file and is repeated; the median
rate is reported. Results go to `--out` as JSON and to the terminal as a table
for docs/benchmarks.md ("SQLite durability").

    python3 -m uv run python benchmarks/bench_sql_durability.py --commits 2000 --repeats 3
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import RESULTS_DIR, format_table, machine_facts, write_json

from wenti.config import Config
from wenti.domain import AuditEntry, Event, Issue, OutboxMessage, Tenant
from wenti_sql import open_store

SETTINGS = ("NORMAL", "FULL")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def store_commits(path: Path, synchronous: str, commits: int) -> float:
    """Commit `commits` issue creations through the store; return seconds spent."""
    config = Config.default(path.parent)
    config.storage.sqlite_synchronous = synchronous
    store = open_store(f"sqlite:///{path}", config)
    try:
        store.upgrade()
        with store.unit_of_work("bench") as uow:
            uow.tenants.add(Tenant(id="bench", name="基准测试"))
            uow.commit()

        start = time.perf_counter()
        for number in range(commits):
            at = T0 + timedelta(seconds=number)
            with store.unit_of_work("bench") as uow:
                issue = uow.issues.add(
                    Issue(tenant_id="bench", queue="it", title=f"打印机卡纸 #{number}", reporter="alice",
                          status="new", description="三楼打印机无法出纸。", created_at=at)
                )
                event = Event(tenant_id="bench", issue_id=issue.id, type="issue.created", actor="alice", at=at, id=uuid.uuid4().hex)
                uow.events.add(event)
                uow.audit.add(AuditEntry(tenant_id="bench", actor="alice", action="issue.create", object_type="issue",
                                         object_id=str(issue.id), at=at))
                uow.outbox.add_many([OutboxMessage(tenant_id="bench", event_id=event.id, hook="issue_event", plugin="notify",
                                                   payload={"event_id": event.id}, created_at=at, next_attempt_at=at)])
                uow.commit()
        return time.perf_counter() - start
    finally:
        store.close()


def raw_commits(path: Path, synchronous: str, commits: int) -> float:
    """Commit `commits` single-row inserts with plain sqlite3; return seconds spent."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {synchronous}")
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL)")
        start = time.perf_counter()
        for number in range(commits):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO t (title, created_at) VALUES (?, ?)", (f"打印机卡纸 #{number}", T0.isoformat()))
            connection.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=2000, help="commits per measurement (default 2000)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per setting; the median is reported (default 3)")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the database files (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "sql_durability.json", help="JSON result file")
    args = parser.parse_args(argv)
    if args.commits < 1 or args.repeats < 1:
        parser.error(f"--commits ({args.commits}) and --repeats ({args.repeats}) must be at least 1")

    workdir = Path(tempfile.mkdtemp(prefix="wenti-durability-", dir=args.workdir))
    results: dict[str, dict[str, float]] = {}
    try:
        for kind, measure in (("store", store_commits), ("raw sqlite3", raw_commits)):
            for synchronous in SETTINGS:
                rates = []
                for repeat in range(args.repeats):
                    path = workdir / f"{kind.replace(' ', '_')}-{synchronous}-{repeat}.db"
                    seconds = measure(path, synchronous, args.commits)
                    rates.append(args.commits / seconds)
                results[f"{kind} WAL+{synchronous}"] = {
                    "median_commits_per_second": round(statistics.median(rates), 1),
                    "runs": [round(value, 1) for value in rates],
                }
                print(f"{kind} WAL+{synchronous}: {statistics.median(rates):,.0f} commits/s", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    record = {"machine": machine_facts(), "commits": args.commits, "repeats": args.repeats, "results": results}
    write_json(args.out, record)
    rows = [(name, f"{values['median_commits_per_second']:,.0f}", ", ".join(f"{run:,.0f}" for run in values["runs"]))
            for name, values in results.items()]
    print(format_table(("setting", "commits/s (median)", "runs"), rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
