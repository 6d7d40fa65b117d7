"""INSERT statements compiled once and sent straight to the DBAPI driver.

`connection.execute(insert(table), rows)` compiles or looks up the statement, builds
one parameter dict per row and runs every column's bind processor through several
layers of SQLAlchemy on each call. On the hot write paths (issue, history and audit
rows) that work cost more than SQLite's own insert. `RawInsert` compiles the
statement for a dialect once, converts each row with one converter per column, and
calls `Connection.exec_driver_sql`. That call still runs inside the unit of work's
transaction and still wraps driver errors in SQLAlchemy's exceptions, so
`Repository.translate_integrity` keeps working.

The converters give the driver the same values SQLAlchemy's bind processors give
it (`plugins/sql/tests/test_sql_rawinsert.py` compares them on every backend). On SQLite, datetime
and JSON columns use shorter converters with the same output; other dialects use
SQLAlchemy's processors as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert
from sqlalchemy.engine import Dialect

from wenti_sql.types import UTCDateTime

Converter = Callable[[Any], Any]


class RawInsert:
    """An INSERT of the given columns of `table`, prepared per dialect on first use.

    Rows are sequences of values in the order of `columns`. With `returning`, the
    statement on PostgreSQL ends in `RETURNING <returning>` so that `insert_one`
    can return the new key there too.
    """

    def __init__(self, table: Table, columns: Sequence[str], returning: str | None = None) -> None:
        unknown = [name for name in columns if name not in table.c]
        if unknown:
            raise ValueError(f"table {table.name} has no column(s) {', '.join(unknown)}")
        self.table = table
        self.columns = tuple(columns)
        self.returning = returning
        self._prepared: dict[str, _Prepared] = {}

    def insert_many(self, connection: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert `rows` with one executemany."""
        if not rows:
            return
        prepared = self._prepare(connection.dialect)
        connection.exec_driver_sql(prepared.sql_without_returning, [prepared.parameters(row) for row in rows])

    def insert_one(self, connection: Connection, row: Sequence[Any]) -> Any:
        """Insert one row and return its new primary key (the `returning` column)."""
        prepared = self._prepare(connection.dialect)
        result = connection.exec_driver_sql(prepared.sql, prepared.parameters(row))
        if prepared.has_returning:
            return result.scalar_one()
        return result.lastrowid

    def _prepare(self, dialect: Dialect) -> _Prepared:
        key = f"{dialect.name}:{dialect.driver}"
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = _Prepared(self.table, self.columns, self.returning, dialect)
        return prepared


class _Prepared:
    """The compiled SQL and the column converters of one `RawInsert` for one dialect."""

    def __init__(self, table: Table, columns: tuple[str, ...], returning: str | None, dialect: Dialect) -> None:
        statement = insert(table)
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        self.sql_without_returning = compiled.string
        self.has_returning = returning is not None and bool(dialect.insert_returning) and dialect.name == "postgresql"
        if self.has_returning:
            assert returning is not None
            self.sql = statement.returning(table.c[returning]).compile(dialect=dialect, column_keys=list(columns)).string
        else:
            self.sql = self.sql_without_returning

        # The compiled statement lists its parameters in table order, not in `columns` order.
        names = list(compiled.positiontup or []) if compiled.positional else list(columns)
        if sorted(names) != sorted(columns):
            raise RuntimeError(f"the INSERT into {table.name} binds {names}, expected the columns {list(columns)}")
        self.names = names
        self.positional = compiled.positional
        sources = [columns.index(name) for name in names]
        converters = [column_converter(table.c[name].type, dialect) for name in names]
        self.in_order = sources == list(range(len(columns)))
        self.sources = sources
        # Only the columns that need converting, as (position in the row, converter).
        self.conversions = [(source, convert) for source, convert in zip(sources, converters) if convert is not None]

    def parameters(self, row: Sequence[Any]) -> Any:
        values = list(row)
        for position, convert in self.conversions:
            values[position] = convert(values[position])
        if not self.in_order:
            values = [values[source] for source in self.sources]
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values))


def column_converter(column_type: Any, dialect: Dialect) -> Converter | None:
    """Return the function that turns a Python value into the driver's value for one column."""
    if dialect.name == "sqlite":
        if isinstance(column_type, UTCDateTime):
            return sqlite_datetime
        if isinstance(column_type, JSON):
            return _sqlite_json(dialect, none_as_null=column_type.none_as_null)
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def sqlite_datetime(value: datetime | None) -> str | None:
    """Format an aware datetime as SQLite text in UTC, as `UTCDateTime` and SQLAlchemy's SQLite DATETIME do.

    SQLAlchemy writes `%04d-%02d-%02d %02d:%02d:%02d.%06d`, which is what
    `isoformat(" ", "microseconds")` gives for a naive datetime.
    """
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone; attach UTC before storing it")
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_json(dialect: Dialect, none_as_null: bool) -> Converter:
    serializer = getattr(dialect, "_json_serializer", None) or json.dumps
    empty_list, empty_dict = serializer([]), serializer({})

    def convert(value: Any) -> Any:
        if value is None:
            return None if none_as_null else serializer(None)
        # Most issues have no tags and no custom fields.
        if value == [] and isinstance(value, list):
            return empty_list
        if value == {} and isinstance(value, dict):
            return empty_dict
        return serializer(value)

    return convert
