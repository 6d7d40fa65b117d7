"""Fresh PostgreSQL and MariaDB databases for the SQL store tests.

Each server gets one database per test session, named `wenti_test_<random>`,
created through the server's `test` database and dropped at the end. A server
that cannot be reached fails the tests with the command that starts it: CI starts
both, so a skip would hide a broken run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

POSTGRES_ADMIN_URL = os.environ.get("WENTI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN_URL = os.environ.get("WENTI_TEST_MARIADB_URL", "mariadb+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4")

_HOW_TO_START = {
    "postgresql": "start it with `service postgresql start` (Debian package postgresql) or set WENTI_TEST_POSTGRES_URL",
    "mariadb": "start it with `service mariadb start` (Debian package mariadb-server) or set WENTI_TEST_MARIADB_URL",
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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = _admin_engine(POSTGRES_ADMIN_URL, "postgresql")
    name = f"wenti_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    admin = _admin_engine(MARIADB_ADMIN_URL, "mariadb")
    name = f"wenti_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    try:
        yield make_url(MARIADB_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()
