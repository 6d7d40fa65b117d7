"""Alembic environment of wenti's SQL store.

`wenti_sql.migrations` runs Alembic programmatically and hands over the open
connection and the combined metadata through `config.attributes`; there is no
alembic.ini and no URL here.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
target_metadata = context.config.attributes["target_metadata"]

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    version_table=context.config.attributes["version_table"],
    # SQLite can alter little in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    # MariaDB commits DDL as it runs it, so one transaction per script at least
    # keeps the version table in step with each finished script.
    transaction_per_migration=True,
)

with context.begin_transaction():
    context.run_migrations()
