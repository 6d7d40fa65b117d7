"""The core tables, as SQLAlchemy Core `Table`s.

Every table has a `tenant_id` column, and every repository query filters on it.
Values with structure (tags, custom fields, workflow states, event changes) are
JSON. The schema is created and changed only by the Alembic scripts in
`wenti_sql/migrations/versions`; a test compares the migrated database with
this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from wenti_sql.types import Id, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Keys, usernames and status names are short identifiers; titles and external ids
# come from people and other systems, so they get more room.
KEY = 64
NAME = 200
TITLE = 500
EXTERNAL_ID = 255

# MariaDB/MySQL: store full Unicode (Chinese, emoji) and compare keys exactly, as
# PostgreSQL and SQLite do.
MYSQL_TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin", "mariadb_charset": "utf8mb4", "mariadb_collate": "utf8mb4_bin"}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _json() -> JSON:
    return JSON(none_as_null=True)


tenants = Table(
    "wenti_tenants",
    metadata,
    Column("tenant_id", String(KEY), primary_key=True),
    Column("name", String(NAME), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=True),
    **MYSQL_TABLE_ARGS,
)

users = Table(
    "wenti_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("username", String(KEY), nullable=False),
    Column("display_name", String(NAME), nullable=False),
    Column("role", String(32), nullable=False),
    Column("email", String(320), nullable=True),
    Column("locale", String(16), nullable=True),
    Column("active", Boolean(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=True),
    UniqueConstraint("tenant_id", "username"),
    ForeignKeyConstraint(["tenant_id"], ["wenti_tenants.tenant_id"]),
    **MYSQL_TABLE_ARGS,
)

teams = Table(
    "wenti_teams",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("key", String(KEY), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("members", _json(), nullable=False),
    UniqueConstraint("tenant_id", "key"),
    ForeignKeyConstraint(["tenant_id"], ["wenti_tenants.tenant_id"]),
    **MYSQL_TABLE_ARGS,
)

queues = Table(
    "wenti_queues",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("key", String(KEY), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("workflow_key", String(KEY), nullable=False),
    Column("team_key", String(KEY), nullable=True),
    Column("manager", String(KEY), nullable=True),
    Column("categories", _json(), nullable=False),
    Column("custom_fields", _json(), nullable=False),
    UniqueConstraint("tenant_id", "key"),
    ForeignKeyConstraint(["tenant_id"], ["wenti_tenants.tenant_id"]),
    **MYSQL_TABLE_ARGS,
)

workflows = Table(
    "wenti_workflows",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("key", String(KEY), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("initial_state", String(KEY), nullable=False),
    Column("states", _json(), nullable=False),
    Column("transitions", _json(), nullable=False),
    UniqueConstraint("tenant_id", "key"),
    ForeignKeyConstraint(["tenant_id"], ["wenti_tenants.tenant_id"]),
    **MYSQL_TABLE_ARGS,
)

issues = Table(
    "wenti_issues",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("queue", String(KEY), nullable=False),
    Column("title", String(TITLE), nullable=False),
    Column("description", Text(), nullable=False),
    Column("reporter", String(KEY), nullable=False),
    Column("status", String(KEY), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("priority_rank", SmallInteger(), nullable=False),
    Column("category", String(NAME), nullable=True),
    Column("tags", _json(), nullable=False),
    Column("custom_fields", _json(), nullable=False),
    Column("assignee", String(KEY), nullable=True),
    Column("source", String(KEY), nullable=False),
    Column("external_id", String(EXTERNAL_ID), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("first_responded_at", UTCDateTime(), nullable=True),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("version", Integer(), nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["wenti_tenants.tenant_id"]),
    # NULL external ids never collide, so issues entered by hand need no id.
    UniqueConstraint("tenant_id", "source", "external_id"),
    # The target of the composite foreign keys below, which stop a comment, attachment,
    # link or tag of one tenant from pointing at another tenant's issue.
    UniqueConstraint("tenant_id", "id"),
    Index(None, "tenant_id", "assignee", "status", "priority_rank"),
    Index(None, "tenant_id", "category", "status"),
    Index(None, "tenant_id", "created_at"),
    Index(None, "tenant_id", "queue", "status"),
    **MYSQL_TABLE_ARGS,
)

# One row per tag, so the tag filter is an indexed lookup on every backend instead
# of a dialect-specific search inside the JSON column.
issue_tags = Table(
    "wenti_issue_tags",
    metadata,
    Column("issue_id", Id, primary_key=True),
    Column("tag", String(NAME), primary_key=True),
    Column("tenant_id", String(KEY), nullable=False),
    ForeignKeyConstraint(["tenant_id", "issue_id"], ["wenti_issues.tenant_id", "wenti_issues.id"], ondelete="CASCADE"),
    Index(None, "tenant_id", "tag"),
    **MYSQL_TABLE_ARGS,
)

# The number of issues per (queue, status, category, priority) of each tenant, so
# dashboards read one row per combination instead of one row per issue. Triggers on
# wenti_issues keep it exact in the same transaction as every issue write. The
# triggers are created by migration 0002, not by this metadata. A NULL category is
# stored as `counts.NO_CATEGORY`, because a primary key column cannot be NULL.
issue_counts = Table(
    "wenti_issue_counts",
    metadata,
    Column("tenant_id", String(KEY), primary_key=True),
    Column("queue", String(KEY), primary_key=True),
    Column("status", String(KEY), primary_key=True),
    Column("category", String(NAME), primary_key=True),
    Column("priority", String(16), primary_key=True),
    Column("n", Integer(), nullable=False),
    **MYSQL_TABLE_ARGS,
)

comments = Table(
    "wenti_comments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("issue_id", Id, nullable=False),
    Column("author", String(KEY), nullable=False),
    Column("body", Text(), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=True),
    Column("source", String(KEY), nullable=False),
    Column("external_id", String(EXTERNAL_ID), nullable=True),
    ForeignKeyConstraint(["tenant_id", "issue_id"], ["wenti_issues.tenant_id", "wenti_issues.id"]),
    UniqueConstraint("tenant_id", "source", "external_id"),
    Index(None, "tenant_id", "issue_id"),
    **MYSQL_TABLE_ARGS,
)

attachments = Table(
    "wenti_attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("issue_id", Id, nullable=False),
    Column("comment_id", Id, nullable=True),
    Column("blob_id", String(EXTERNAL_ID), nullable=False),
    Column("filename", String(TITLE), nullable=False),
    Column("content_type", String(NAME), nullable=False),
    Column("size", Id, nullable=False),
    Column("uploaded_by", String(KEY), nullable=False),
    Column("created_at", UTCDateTime(), nullable=True),
    ForeignKeyConstraint(["tenant_id", "issue_id"], ["wenti_issues.tenant_id", "wenti_issues.id"]),
    Index(None, "tenant_id", "issue_id"),
    **MYSQL_TABLE_ARGS,
)

links = Table(
    "wenti_links",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("source_id", Id, nullable=False),
    Column("target_id", Id, nullable=False),
    Column("type", String(32), nullable=False),
    Column("created_by", String(KEY), nullable=False),
    Column("created_at", UTCDateTime(), nullable=True),
    ForeignKeyConstraint(["tenant_id", "source_id"], ["wenti_issues.tenant_id", "wenti_issues.id"]),
    ForeignKeyConstraint(["tenant_id", "target_id"], ["wenti_issues.tenant_id", "wenti_issues.id"]),
    Index(None, "tenant_id", "source_id"),
    Index(None, "tenant_id", "target_id"),
    **MYSQL_TABLE_ARGS,
)

events = Table(
    "wenti_events",
    metadata,
    # Orders the events of one issue in insertion order when two share a timestamp.
    Column("seq", Id, primary_key=True, autoincrement=True),
    # Event ids come from the caller (uuid hex), so a retried write cannot add one twice.
    Column("id", String(KEY), nullable=False, unique=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("issue_id", Id, nullable=False),
    Column("type", String(KEY), nullable=False),
    Column("actor", String(KEY), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("changes", _json(), nullable=False),
    Column("data", _json(), nullable=False),
    Index(None, "tenant_id", "issue_id", "seq"),
    **MYSQL_TABLE_ARGS,
)

audit_log = Table(
    "wenti_audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("actor", String(KEY), nullable=False),
    Column("action", String(KEY), nullable=False),
    Column("object_type", String(KEY), nullable=False),
    Column("object_id", String(EXTERNAL_ID), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("detail", _json(), nullable=False),
    Index(None, "tenant_id", "object_type", "object_id"),
    **MYSQL_TABLE_ARGS,
)

outbox = Table(
    "wenti_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tenant_id", String(KEY), nullable=False),
    Column("event_id", String(KEY), nullable=False),
    Column("hook", String(KEY), nullable=False),
    Column("plugin", String(KEY), nullable=False),
    Column("payload", _json(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("delivered_at", UTCDateTime(), nullable=True),
    UniqueConstraint("event_id", "plugin"),
    Index(None, "tenant_id", "status", "next_attempt_at"),
    **MYSQL_TABLE_ARGS,
)
