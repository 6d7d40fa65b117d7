"""Opaque cursors for keyset pagination of issue lists.

A cursor is URL-safe base64 of a JSON object: the sort it was made for and the
sort-key values of the last issue on the page (the issue id last). A cursor used
with a different sort is rejected rather than silently skipping issues.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from wenti_sql.errors import UnsupportedQuery

DATETIME_FIELDS = frozenset({"created_at", "updated_at", "resolved_at"})
INTEGER_FIELDS = frozenset({"id", "priority"})


def encode(sort: tuple[str, ...], values: list[Any]) -> str:
    encoded = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    text = json.dumps({"sort": list(sort), "after": encoded}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def decode(cursor: str, sort: tuple[str, ...]) -> list[Any]:
    """Return the sort-key values stored in `cursor`, typed for the fields of `sort`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
        stored_sort = tuple(document["sort"])
        values = list(document["after"])
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error) as error:
        raise UnsupportedQuery(reason=f"cursor {cursor!r} is not one this server issued ({error}); start again from the first page") from error

    if stored_sort != sort or len(values) != len(sort):
        raise UnsupportedQuery(
            reason=f"cursor {cursor!r} was made for sort {','.join(stored_sort)}, not {','.join(sort)}; start again from the first page"
        )
    return [_typed(field.lstrip("-"), value, cursor) for field, value in zip(sort, values)]


def _typed(field: str, value: Any, cursor: str) -> Any:
    try:
        if field in DATETIME_FIELDS:
            return datetime.fromisoformat(value)
        if field in INTEGER_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{value!r} is not an integer")
            return value
        if not isinstance(value, str):
            raise TypeError(f"{value!r} is not text")
        return value
    except (TypeError, ValueError) as error:
        raise UnsupportedQuery(reason=f"cursor {cursor!r} holds an invalid {field} value ({error}); start again from the first page") from error
