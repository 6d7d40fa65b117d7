"""Conversion between table rows and the attrs domain objects.

NOTE: the shared converter module `wenti.converter` was not available when this
was written, so the row mapping uses its own cattrs converter. Rows already hold
Python datetimes (see `wenti_sql.types.UTCDateTime`), so datetimes pass through;
only values inside JSON columns are turned into JSON types.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import cattrs

T = TypeVar("T")

converter = cattrs.Converter()
converter.register_structure_hook(datetime, lambda value, _type: _datetime(value))
converter.register_unstructure_hook(datetime, lambda value: value)


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def to_row(obj: Any) -> dict[str, Any]:
    """Unstructure an attrs object into a dict of column values (enums as their values)."""
    return converter.unstructure(obj)


def from_row(row: Mapping[str, Any], cls: type[T], **overrides: Any) -> T:
    """Structure a row (a `RowMapping`) into `cls`; keys that are not fields are ignored."""
    values = dict(row)
    values.update(overrides)
    return converter.structure(values, cls)


def json_safe(value: Any) -> Any:
    """Turn a value into JSON types: datetimes into ISO 8601 text, enums into their values.

    History changes and outbox payloads hold arbitrary field values; this is how
    they survive the JSON column. Reading them back gives the JSON form.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, enum.Enum):
            return value.value
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(json_safe(item) for item in value)
    unstructured = converter.unstructure(value)
    if unstructured is value:
        raise TypeError(f"cannot store {type(value).__name__} value {value!r} as JSON; convert it to text first")
    return json_safe(unstructured)
