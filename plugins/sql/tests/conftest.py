"""Fresh PostgreSQL and MariaDB databases for the SQL store tests.

Each server gets one database per test session, named `wenti_test_<random>`,
created through the server's `test` database and dropped at the end. A server
that cannot be reached fails the tests with the command that starts it: CI starts
both, so a skip would hide a broken run.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from wenti.hookspecs import hookimpl
from wenti.records import SqlSchema
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

POSTGRES_ADMIN_URL = os.environ.get("WENTI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN_URL = os.environ.get("WENTI_TEST_MARIADB_URL", "mariadb+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4")

SAMPLE_MIGRATIONS = Path(__file__).parent / "sample_migrations"

_HOW_TO_START = {
    "postgresql": (
        "start it with `pg_ctlcluster <version> main start` (Debian package postgresql; `bash .ci/run` does this) "
        "or point WENTI_TEST_POSTGRES_URL at another server"
    ),
    "mariadb": (
        "start it with `start-stop-daemon --start --background --exec /usr/sbin/mariadbd` (Debian package mariadb-server; "
        "`bash .ci/run` does this) or point WENTI_TEST_MARIADB_URL at another server"
    ),
}


def _admin_engine(url: str, kind: str):
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        engine.dispose()
        shown = make_url(url).render_as_string(hide_password=True)
        pytest.fail(f"the {kind} server at {shown} is unreachable ({error.orig}); {_HOW_TO_START[kind]}", pytrace=False)
    return engine


class _Databases:
    """Creates databases on the servers on demand and drops them all at the end."""

    def __init__(self) -> None:
        self._admins: dict[str, Engine] = {}
        self._created: list[tuple[str, str]] = []

    def create(self, kind: str) -> str:
        admin_url = POSTGRES_ADMIN_URL if kind == "postgresql" else MARIADB_ADMIN_URL
        if kind not in self._admins:
            self._admins[kind] = _admin_engine(admin_url, kind)
        name = f"wenti_test_{uuid.uuid4().hex[:10]}"
        if kind == "postgresql":
            statement = f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"
        else:
            statement = f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        with self._admins[kind].connect() as connection:
            connection.execute(text(statement))
        self._created.append((kind, name))
        return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for kind, name in self._created:
            if kind == "postgresql":
                statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            else:
                statement = f"DROP DATABASE IF EXISTS `{name}`"
            with self._admins[kind].connect() as connection:
                connection.execute(text(statement))
        for engine in self._admins.values():
            engine.dispose()


@pytest.fixture(scope="session")
def _databases() -> Iterator[_Databases]:
    databases = _Databases()
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture
def fresh_database(_databases: _Databases) -> Callable[[str], str]:
    """Return a function that creates an empty database (`postgresql` or `mariadb`) and returns its URL."""
    return _databases.create


@pytest.fixture(scope="session")
def postgres_url(_databases: _Databases) -> str:
    return _databases.create("postgresql")


@pytest.fixture(scope="session")
def mariadb_url(_databases: _Databases) -> str:
    return _databases.create("mariadb")


class NotesPlugin:
    """A plugin that owns one table, `sample_notes`, migrated by `sample_migrations/`."""

    @hookimpl
    def register_sql_schemas(self):
        from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

        metadata = MetaData()
        Table(
            "sample_notes",
            metadata,
            Column("id", Integer(), primary_key=True, autoincrement=True),
            Column("tenant_id", String(64), nullable=False),
            Column("issue_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
            Column("body", Text(), nullable=False),
            Index("ix_sample_notes_tenant_id_issue_id", "tenant_id", "issue_id"),
        )
        return [SqlSchema(name="sample", metadata=metadata, migrations=str(SAMPLE_MIGRATIONS), branch="sample")]


@pytest.fixture
def notes_plugin() -> NotesPlugin:
    return NotesPlugin()
