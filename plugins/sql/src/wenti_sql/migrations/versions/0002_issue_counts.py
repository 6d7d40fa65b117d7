"""Add the issue-count table and the triggers that keep it exact.

`wenti_issue_counts` holds the number of issues per tenant, queue, status,
category and priority. Row triggers on `wenti_issues` subtract 1 for a deleted
issue and move 1 from the old to the new row when an update changes one of those
five columns. They run inside the statement that writes the issue, so the counts
commit or roll back with it. Inserts have no trigger: the issue repository adds
the counts of each inserted batch with one upsert per combination in the same
transaction (`wenti_sql.counts.add_inserted`), because a row trigger on INSERT
made bulk imports on SQLite about 30 % slower. A NULL category is stored as '',
which the service layer never stores as a category because it turns an empty
category into NULL.

Rows whose count drops to 0 stay. Deleting them would make the next issue of that
kind insert the row again, and the set of rows is bounded by the combinations a
tenant has ever used, which is small. Readers skip rows with n = 0.

SQLite drops a table's triggers when the table is dropped, and Alembic's batch
mode alters a SQLite table by copying it into a new table and dropping the old
one. A later migration that batch-alters `wenti_issues` on SQLite must therefore
create these triggers again.

On MariaDB, DDL commits as it runs, so an issue changed or written between the
table's creation and the backfill below may be counted wrongly. Stop the writers while this
migration runs there. PostgreSQL and SQLite run it in one transaction.

Revision ID: 0002_issue_counts
Revises: 0001_core
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002_issue_counts'
down_revision = '0001_core'
branch_labels = None
depends_on = None

KEY_COLUMNS = ("tenant_id", "queue", "status", "category", "priority")
TRIGGERS = ("wenti_issue_counts_delete", "wenti_issue_counts_update")

BACKFILL = """
INSERT INTO wenti_issue_counts (tenant_id, queue, status, category, priority, n)
SELECT tenant_id, queue, status, COALESCE(category, ''), priority, COUNT(*)
FROM wenti_issues
GROUP BY tenant_id, queue, status, COALESCE(category, ''), priority
"""


def _sqlite_upsert(row: str, delta: str) -> str:
    return f"""
    INSERT INTO wenti_issue_counts (tenant_id, queue, status, category, priority, n)
    VALUES ({row}.tenant_id, {row}.queue, {row}.status, COALESCE({row}.category, ''), {row}.priority, {delta})
    ON CONFLICT (tenant_id, queue, status, category, priority) DO UPDATE SET n = n {delta};
    """


def _sqlite_changed() -> str:
    return " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in KEY_COLUMNS)


SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER wenti_issue_counts_delete AFTER DELETE ON wenti_issues
    BEGIN {_sqlite_upsert("OLD", "- 1")} END
    """,
    f"""
    CREATE TRIGGER wenti_issue_counts_update AFTER UPDATE OF {", ".join(KEY_COLUMNS)} ON wenti_issues
    WHEN {_sqlite_changed()}
    BEGIN {_sqlite_upsert("OLD", "- 1")} {_sqlite_upsert("NEW", "+ 1")} END
    """,
]


def _postgresql_upsert(row: str, delta: str) -> str:
    return f"""
        INSERT INTO wenti_issue_counts AS counts (tenant_id, queue, status, category, priority, n)
        VALUES ({row}.tenant_id, {row}.queue, {row}.status, COALESCE({row}.category, ''), {row}.priority, {delta})
        ON CONFLICT (tenant_id, queue, status, category, priority) DO UPDATE SET n = counts.n + EXCLUDED.n;
    """


def _postgresql_columns(row: str) -> str:
    return ", ".join(f"{row}.{column}" for column in KEY_COLUMNS)


POSTGRESQL_TRIGGERS = [
    f"""
    CREATE FUNCTION wenti_issue_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN {_postgresql_upsert("OLD", "-1")}
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN {_postgresql_upsert("NEW", "1")}
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER wenti_issue_counts_delete AFTER DELETE ON wenti_issues
    FOR EACH ROW EXECUTE FUNCTION wenti_issue_counts_apply()
    """,
    f"""
    CREATE TRIGGER wenti_issue_counts_update AFTER UPDATE OF {", ".join(KEY_COLUMNS)} ON wenti_issues
    FOR EACH ROW WHEN (({_postgresql_columns("OLD")}) IS DISTINCT FROM ({_postgresql_columns("NEW")}))
    EXECUTE FUNCTION wenti_issue_counts_apply()
    """,
]


def _mariadb_upsert(row: str, delta: str) -> str:
    return f"""
        INSERT INTO wenti_issue_counts (tenant_id, queue, status, category, priority, n)
        VALUES ({row}.tenant_id, {row}.queue, {row}.status, COALESCE({row}.category, ''), {row}.priority, {delta})
        ON DUPLICATE KEY UPDATE n = n + VALUES(n)
    """


def _mariadb_unchanged() -> str:
    # <=> is MariaDB's NULL-safe equality.
    return " AND ".join(f"OLD.{column} <=> NEW.{column}" for column in KEY_COLUMNS)


MARIADB_TRIGGERS = [
    f"""
    CREATE TRIGGER wenti_issue_counts_delete AFTER DELETE ON wenti_issues
    FOR EACH ROW {_mariadb_upsert("OLD", "-1")}
    """,
    f"""
    CREATE TRIGGER wenti_issue_counts_update AFTER UPDATE ON wenti_issues
    FOR EACH ROW BEGIN
        IF NOT ({_mariadb_unchanged()}) THEN
            {_mariadb_upsert("OLD", "-1")};
            {_mariadb_upsert("NEW", "1")};
        END IF;
    END
    """,
]


def _dialect() -> str:
    name = op.get_bind().dialect.name
    return "mariadb" if name == "mysql" else name


def upgrade() -> None:
    op.create_table('wenti_issue_counts',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'queue', 'status', 'category', 'priority', name=op.f('pk_wenti_issue_counts')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )

    statements = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS, "mariadb": MARIADB_TRIGGERS}[_dialect()]
    for statement in statements:
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    for trigger in TRIGGERS:
        if _dialect() == "postgresql":
            op.execute(f"DROP TRIGGER {trigger} ON wenti_issues")
        else:
            op.execute(f"DROP TRIGGER {trigger}")
    if _dialect() == "postgresql":
        op.execute("DROP FUNCTION wenti_issue_counts_apply()")
    op.drop_table('wenti_issue_counts')
