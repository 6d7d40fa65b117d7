"""The SQL store and its unit of work."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from wenti.errors import ConfigError
from wenti.records import SqlSchema
from wenti_sql.issues import SqlIssueRepository
from wenti_sql.outbox import SqlOutboxRepository
from wenti_sql.repositories import (
    SqlAttachmentRepository,
    SqlAuditRepository,
    SqlCommentRepository,
    SqlEventRepository,
    SqlLinkRepository,
    SqlQueueRepository,
    SqlTeamRepository,
    SqlTenantRepository,
    SqlUserRepository,
    SqlWorkflowRepository,
)

log = logging.getLogger(__name__)

SYNCHRONOUS_MODES = ("NORMAL", "FULL")

# How long a SQLite connection waits for another writer before failing with
# "database is locked". Every unit of work takes the write lock, so this bounds
# the wait of a request behind a long write.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# URL schemes (SQLAlchemy dialect names, with or without the driver) this backend opens.
SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg", "mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql")

# An empty `[storage] url` means this file in `[instance] data_dir`.
DEFAULT_URL = "sqlite:///wenti.db"

_DEFAULT_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}


def _json_serializer(value: Any) -> str:
    # Chinese text is stored as written, not as \uXXXX escapes, so the database's
    # own tools show it and it takes a third of the space.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class SqlUnitOfWork:
    """One transaction on one connection, bound to one tenant.

    The transaction begins with the first statement. `commit()` ends it; a later
    statement starts a new one. Leaving the `with` block rolls back whatever is
    not committed.
    """

    def __init__(self, store: SqlStore, tenant_id: str, readonly: bool = False) -> None:
        if not tenant_id:
            raise ValueError("a unit of work needs a tenant id, got an empty one")
        self.store = store
        self.tenant_id = tenant_id
        self.readonly = readonly
        self._connection: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        connection = self.store.engine.connect()
        if self.readonly:
            connection = connection.execution_options(wenti_readonly=True)
        self._connection = connection
        self.tenants = SqlTenantRepository(connection, self.tenant_id)
        self.users = SqlUserRepository(connection, self.tenant_id)
        self.teams = SqlTeamRepository(connection, self.tenant_id)
        self.queues = SqlQueueRepository(connection, self.tenant_id)
        self.workflows = SqlWorkflowRepository(connection, self.tenant_id)
        self.issues = SqlIssueRepository(connection, self.tenant_id)
        self.comments = SqlCommentRepository(connection, self.tenant_id)
        self.attachments = SqlAttachmentRepository(connection, self.tenant_id)
        self.links = SqlLinkRepository(connection, self.tenant_id)
        self.events = SqlEventRepository(connection, self.tenant_id)
        self.audit = SqlAuditRepository(connection, self.tenant_id)
        self.outbox = SqlOutboxRepository(connection, self.tenant_id)
        return self

    def __exit__(self, *exc_info: object) -> None:
        connection = self._connection
        self._connection = None
        if connection is None:
            return
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        self.sql_connection().commit()

    def rollback(self) -> None:
        self.sql_connection().rollback()

    def sql_connection(self) -> Connection:
        """Return the SQLAlchemy `Connection` of this transaction, for plugins that own tables."""
        if self._connection is None:
            raise RuntimeError("the unit of work is not open; use it as `with store.unit_of_work(tenant) as uow:`")
        return self._connection


class SqlStore:
    """An open SQL database. Build it with `open_store`."""

    name = "sql"

    def __init__(self, engine: Engine, schemas: Callable[[], Sequence[SqlSchema]] | None = None) -> None:
        self.engine = engine
        self._schemas = schemas
        self.upgraded = False

    def unit_of_work(self, tenant_id: str, *, readonly: bool = False) -> SqlUnitOfWork:
        """A unit of work for `tenant_id`.

        On SQLite a unit of work takes the database's write lock when it begins
        (`BEGIN IMMEDIATE`), so a transaction that reads and then writes never fails
        because another one committed in between. The cost is that units of work run
        one at a time. `readonly=True` begins a plain deferred transaction that reads
        beside a writer; the issue service uses it for its queries. Other databases
        ignore the flag.
        """
        return SqlUnitOfWork(self, tenant_id, readonly=readonly)

    @property
    def has_schema_source(self) -> bool:
        return self._schemas is not None

    def attach_schemas(self, schemas: Callable[[], Sequence[SqlSchema]]) -> None:
        """Set the source of the plugins' `SqlSchema` records used by `upgrade` and `downgrade`."""
        self._schemas = schemas

    def schemas(self) -> list[SqlSchema]:
        """Return the tables plugins declare through `register_sql_schemas`."""
        return list(self._schemas()) if self._schemas is not None else []

    def upgrade(self) -> None:
        """Migrate the core tables and every plugin's tables to their newest revision."""
        from wenti_sql.migrations import upgrade

        upgrade(self.engine, self.schemas())
        self.upgraded = True

    def downgrade(self, target: str) -> None:
        """Migrate down to `target`: a revision id, `<branch>@base`, `<branch>@-1` or `base`."""
        from wenti_sql.migrations import downgrade

        downgrade(self.engine, self.schemas(), target)

    def close(self) -> None:
        self.engine.dispose()
        log.info("store closed: %s", self.engine.url.render_as_string(hide_password=True))


def open_store(
    url: str,
    config: Any = None,
    schemas: Callable[[], Sequence[SqlSchema]] | None = None,
) -> SqlStore:
    """Open the database at `url` with the `[storage]` settings of `config`.

    `config` is a `wenti.config.Config` (or None for the defaults). A relative
    SQLite path is taken relative to `[instance] data_dir`. `schemas` returns the
    plugins' `SqlSchema` records for `upgrade()`.
    """
    storage = getattr(config, "storage", None)
    synchronous = str(getattr(storage, "sqlite_synchronous", "NORMAL")).upper()
    echo = bool(getattr(storage, "echo", False))
    label = getattr(config, "file_label", "(built-in defaults)")

    if synchronous not in SYNCHRONOUS_MODES:
        raise ConfigError(
            file=label, table="storage", key="sqlite_synchronous", value=getattr(storage, "sqlite_synchronous", None),
            expected="NORMAL (the default: survives a process crash) or FULL (also survives power loss, slower commits)",
        )
    parsed = parse_url(url or DEFAULT_URL, config)

    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, synchronous, echo)
    else:
        engine = create_engine(parsed, echo=echo, pool_pre_ping=True, json_serializer=_json_serializer)
    log.info("store opened: %s", engine.url.render_as_string(hide_password=True))
    return SqlStore(engine, schemas)


def parse_url(url: str, config: Any = None) -> URL:
    """Parse `url`, choose the driver wenti ships (psycopg, PyMySQL) and resolve SQLite paths."""
    label = getattr(config, "file_label", "(built-in defaults)")
    expected = (
        "a database URL such as sqlite:///wenti.db, postgresql://user@host/dbname "
        "or mariadb://user@host/dbname"
    )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(file=label, table="storage", key="url", value=url, expected=expected) from None

    backend = parsed.get_backend_name()
    if parsed.drivername not in SCHEMES:
        raise ConfigError(file=label, table="storage", key="url", value=url, expected=expected)
    if backend in _DEFAULT_DRIVERS and "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{backend}+{_DEFAULT_DRIVERS[backend]}")
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_absolute():
            data_dir = getattr(getattr(config, "instance", None), "data_dir", None)
            path = Path(data_dir or ".") / path
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path.resolve()))
    return parsed


def _sqlite_engine(url: URL, synchronous: str, echo: bool) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    options: dict[str, Any] = {"echo": echo, "json_serializer": _json_serializer}
    if in_memory:
        # One shared connection, or every connection would see its own empty database.
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, which would
        # otherwise issue its own deferred BEGIN before the first write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if connection.get_execution_options().get("wenti_readonly"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
