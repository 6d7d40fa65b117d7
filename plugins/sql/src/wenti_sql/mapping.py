"""Conversion between table rows and the attrs domain objects.

Everything goes through wenti's shared converter (`wenti.converter`), with one
difference for rows: datetimes stay `datetime` objects, because the columns'
type (`wenti_sql.types.UTCDateTime`) binds them and checks their zone. Values
inside JSON columns take the shared converter's plain-data form, so a datetime
there is ISO 8601 text in UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from wenti.converter import converter as shared_converter

T = TypeVar("T")

row_converter = shared_converter.copy()
row_converter.register_unstructure_hook(datetime, lambda value: value)


def to_row(obj: Any) -> dict[str, Any]:
    """Unstructure an attrs object into a dict of column values (enums as their values)."""
    return row_converter.unstructure(obj)


def from_row(row: Mapping[str, Any], cls: type[T], **overrides: Any) -> T:
    """Structure a row (a `RowMapping`) into `cls`; keys that are not fields are ignored."""
    values = dict(row)
    values.update(overrides)
    return row_converter.structure(values, cls)


def structure(value: Any, cls: Any) -> Any:
    """Structure plain data read from a JSON column into `cls`."""
    return row_converter.structure(value, cls)


# Types stored in JSON as they are. Exact types only: an enum that subclasses str
# must become its value.
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


def json_safe(value: Any) -> Any:
    """Turn a value into JSON types: datetimes into ISO 8601 UTC text, enums into their values.

    History changes and outbox payloads hold arbitrary field values; this is how
    they survive the JSON column. Reading them back gives the JSON form.
    """
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is dict:
        return {str(key): item if type(item) in _PLAIN_TYPES else json_safe(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return shared_converter.unstructure(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(json_safe(item) for item in value)
    unstructured = shared_converter.unstructure(value)
    if unstructured is value:
        raise TypeError(f"cannot store {type(value).__name__} value {value!r} as JSON; convert it to text first")
    return json_safe(unstructured)
