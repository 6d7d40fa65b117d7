"""The one cattrs converter module: every (un)structure hook of wenti lives here.

Domain modules never import cattrs; code that turns domain objects into plain data
(storage rows, JSON, TOML) and back uses `converter`, or `to_dict` / `from_dict`::

    from wenti.converter import from_dict, to_dict

    data = to_dict(issue)            # datetimes as ISO 8601 UTC strings, enums as values
    issue = from_dict(Issue, data)

Rules the hooks enforce:

* A datetime is unstructured to an ISO 8601 string in UTC (`2026-12-04T21:00:00+00:00`)
  and structured from such a string or a `datetime`. A naive value is rejected,
  because its time zone is unknown.
* Enums (un)structure by value; tuples of frozen attrs classes (workflow states and
  transitions, event changes) round-trip as lists of dicts.
* `wenti.config.Secret` structures from `{ env = "NAME" }` or a literal string and
  unstructures back to the reference, never to the secret value.

`make_converter(strict=True)` builds the variant that validates configuration:
unknown keys are errors and primitive values are not coerced (`"yes"` is not a
bool, `"3"` is not an int).
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import cattrs

from wenti.config import Secret, SecretError

T = TypeVar("T")


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone; attach one before storing it")
    return value.astimezone(timezone.utc).isoformat()


def _structure_datetime(value: Any, _type: type) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected an ISO 8601 datetime string, got {type(value).__name__} {value!r}")
    if parsed.tzinfo is None:
        raise ValueError(f"datetime {value!r} has no time zone; write it with an offset such as +08:00 or Z")
    return parsed.astimezone(timezone.utc)


def _structure_date(value: Any, _type: type) -> date:
    if isinstance(value, datetime):
        raise TypeError(f"expected a date, got the datetime {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"expected an ISO 8601 date string, got {type(value).__name__} {value!r}")


def _structure_secret(value: Any, _type: type) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    if isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str):
        name = value["env"]
        if name not in os.environ:
            raise SecretError(name)
        return Secret(os.environ[name], env=name)
    raise TypeError(f'expected {{ env = "VARIABLE" }} or a string, got {value!r}')


def _unstructure_secret(value: Secret) -> Any:
    if value.env is not None:
        return {"env": value.env}
    return Secret.REDACTED


def _strict_primitive(kind: type) -> Any:
    # bool is a subclass of int, so `True` must not pass as an int.
    accepted: tuple[type, ...] = (int, float) if kind is float else (kind,)

    def structure(value: Any, _type: type) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {kind.__name__}, got the boolean {value!r}")
        if not isinstance(value, accepted):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
        return kind(value)

    return structure


def _structure_path(value: Any, _type: type) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected a path string, got {type(value).__name__} {value!r}")
    return Path(value)


def make_converter(*, strict: bool = False) -> cattrs.Converter:
    """Build a converter with wenti's hooks.

    `strict` forbids unknown keys in dicts structured into attrs classes, and it
    rejects primitive values of the wrong type instead of coercing them. The
    configuration loader uses it. Errors are cattrs' detailed validation groups
    (`cattrs.ClassValidationError`), whose notes give the path of each bad value.
    """
    converter = cattrs.Converter(forbid_extra_keys=strict, detailed_validation=True)

    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, _structure_date)
    converter.register_structure_hook(Secret, _structure_secret)
    converter.register_unstructure_hook(Secret, _unstructure_secret)

    if strict:
        for kind in (str, int, float, bool):
            converter.register_structure_hook(kind, _strict_primitive(kind))
        converter.register_structure_hook(Path, _structure_path)

    return converter


converter = make_converter()


def to_dict(obj: Any) -> Any:
    """Unstructure an attrs object (or a list or dict of them) into plain data."""
    return converter.unstructure(obj)


def from_dict(cls: type[T], data: Any) -> T:
    """Structure plain data into `cls`; raises cattrs' `ClassValidationError` on bad data."""
    return converter.structure(data, cls)
