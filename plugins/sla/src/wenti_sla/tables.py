"""Tables the SLA plugin owns, created by the Alembic branch `sla`.

`sla_issues` caches each issue's SLA timeline (the facts extracted from its history)
so a recompute of every open issue reads one table. `sla_clocks` caches the computed
clocks for queries (due within N hours, breached, paused) and records which warnings
and breaches were already announced. Both are derived data: `wenti sla recompute
--from-history` rebuilds them from issue history. Times are POSIX timestamps (UTC
seconds) in double-precision columns.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Double, Index, Integer, MetaData, String, Table

metadata = MetaData()

sla_issues = Table(
    "sla_issues",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("issue_id", Integer(), primary_key=True, autoincrement=False),
    Column("queue", String(64), nullable=False),
    Column("priority", String(32), nullable=False),
    Column("status", String(64), nullable=False),
    # True once the issue is in a closed-category state; recomputes leave it alone.
    Column("closed", Boolean(), nullable=False),
    Column("facts", JSON(), nullable=False),
    Column("updated_at", Double(), nullable=False),
    Index("ix_sla_issues_open", "tenant_id", "closed"),
)

sla_clocks = Table(
    "sla_clocks",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("issue_id", Integer(), primary_key=True, autoincrement=False),
    Column("metric", String(32), primary_key=True),
    Column("policy", String(100), nullable=False),
    Column("calendar", String(100), nullable=False),
    Column("target", Double(), nullable=False),
    # running, paused, met or breached.
    Column("status", String(16), nullable=False),
    Column("elapsed", Double(), nullable=False),
    Column("started_at", Double(), nullable=False),
    Column("due_at", Double(), nullable=True),
    Column("stopped_at", Double(), nullable=True),
    Column("breached_at", Double(), nullable=True),
    Column("next_warning_at", Double(), nullable=True),
    Column("estimated", Boolean(), nullable=False),
    Column("computed_at", Double(), nullable=False),
    # Notices refer to the clock that started at `notice_key`; a restarted clock
    # (priority change, new next-response cycle) gets fresh notices.
    Column("notice_key", Double(), nullable=False),
    Column("warned", JSON(), nullable=False),
    Column("breach_sent", Boolean(), nullable=False),
    Index("ix_sla_clocks_due", "tenant_id", "status", "due_at"),
    Index("ix_sla_clocks_warning", "tenant_id", "next_warning_at"),
)
