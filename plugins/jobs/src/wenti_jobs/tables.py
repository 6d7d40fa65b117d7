"""The table the jobs plugin owns: one row per periodic job and per enqueued delayed job.

Created by the Alembic branch `jobs`. Times are POSIX timestamps (UTC seconds) in
double-precision columns, so comparisons are plain numbers on every database.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Double, Index, Integer, MetaData, String, Text, Table

metadata = MetaData()

jobs = Table(
    "jobs_schedule",
    metadata,
    # A periodic job's id is its name; a delayed job's id is `<name>:<key>`.
    Column("id", String(255), primary_key=True),
    Column("job", String(200), nullable=False),
    Column("cron", String(100), nullable=True),
    Column("payload", JSON(none_as_null=True), nullable=True),
    Column("run_at", Double(), nullable=False),
    # scheduled, done or dead.
    Column("status", String(16), nullable=False),
    Column("lease_owner", String(100), nullable=True),
    Column("lease_until", Double(), nullable=True),
    Column("attempts", Integer(), nullable=False),
    Column("last_run_at", Double(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("created_at", Double(), nullable=False),
    Index("ix_jobs_schedule_due", "status", "run_at"),
)
