"""wenti's SQL storage: SQLite, PostgreSQL and MariaDB/MySQL through SQLAlchemy 2.

The plugin registers the storage backend `sql` for the URL schemes in
`wenti_sql.store.SCHEMES`. `open_store` and `SqlStore` are its public API; plugins
that own tables reach the transaction with `uow.sql_connection()` and declare their
tables with the `register_sql_schemas` hook.
"""

from __future__ import annotations

from typing import Any

from wenti import hookimpl
from wenti.records import CliCommand, StorageBackend
from wenti_sql.store import SCHEMES, SqlStore, SqlUnitOfWork, open_store

__all__ = ["SCHEMES", "SqlStore", "SqlUnitOfWork", "open_store"]


def _open(url: str, config: Any = None, hooks: Any = None) -> SqlStore:
    schemas = getattr(hooks, "sql_schemas", None)
    return open_store(url, config, schemas)


@hookimpl(tryfirst=True)
def startup(app: Any) -> None:
    """Migrate plugins' tables when the store was opened without the hook facade.

    The core passes `hooks` to `open`, so the store normally has every plugin's
    `SqlSchema` from the start. A store opened with only the URL and the config
    learns them here, before other plugins start, and migrates their branches if
    the app migrated the core tables.
    """
    store = app.store
    if not isinstance(store, SqlStore) or store.has_schema_source:
        return
    store.attach_schemas(app.hooks.sql_schemas)
    if store.upgraded:
        store.upgrade()


@hookimpl
def register_storage_backends() -> list[StorageBackend]:
    return [StorageBackend(name="sql", schemes=SCHEMES, open=_open)]


@hookimpl
def register_commands() -> list[CliCommand]:
    from wenti_sql.cli import db_group

    return [CliCommand(name="db", command=db_group)]
