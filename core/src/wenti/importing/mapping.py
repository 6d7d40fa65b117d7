"""Mapping files: how the columns of a spreadsheet or export become issue fields.

A mapping is a TOML file with four parts::

    queue = "it"                       # queue of rows without [fields] queue (--queue overrides both)

    [source]                           # how to read the file
    format = "csv"                     # csv, xlsx or jsonl; default: from the file suffix
    encoding = "auto"                  # auto (UTF-8, else GB18030) or a Python codec name
    timezone = "Asia/Shanghai"         # zone of times written without an offset
    external_id = "id"                 # column that identifies a row across imports
    name = "ict"                       # stored as the issue's source

    [fields]                           # issue field = column, or a table (see FIELD_KEYS)
    title = { column = "问题现象", extract = "first_sentence" }
    description = "问题现象"
    custom.unit = "单位简称"
    custom_prefix = "custom."          # also: every column custom.<name> is custom field <name>

    [values.priority]                  # source value -> wenti value
    map = { Blocker = "critical", Major = "normal" }
    Minor = "low"                      # entries may also stand in the table itself
    default = "normal"                 # for empty cells (and unknown ones if unknown = "default")
    unknown = "reject"                 # reject, keep or default
    # other = "resolved"               # instead of unknown: the value for any value not in map

`load_mapping()` checks every table and key and raises `MappingError` naming the
file, the table, the key and what to write instead, so a typo never imports
silently wrong data.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping as AnyMapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from wenti.domain import Priority
from wenti.errors import WentiError
from wenti.i18n import N_

FORMATS = ("csv", "xlsx", "jsonl")
TOP_LEVEL_KEYS = ("queue", "source", "fields", "values")
SOURCE_KEYS = ("format", "encoding", "timezone", "external_id", "name", "sheet", "delimiter", "time_formats", "unescape_formulas")
TEXT_FIELDS = ("title", "description", "queue", "priority", "category", "status", "assignee", "reporter")
TIME_FIELDS = ("created_at", "resolved_at", "closed_at")
ISSUE_FIELDS = (*TEXT_FIELDS, "tags", *TIME_FIELDS)
FIELD_KEYS = ("column", "columns", "template", "value", "extract", "max_length", "split", "format")
EXTRACTIONS = ("first_sentence", "first_line")
VALUE_MAP_FIELDS = ("queue", "priority", "category", "status", "assignee", "reporter")
VALUE_MAP_KEYS = ("map", "default", "other", "unknown", "ignore_case")
UNKNOWN_POLICIES = ("reject", "keep", "default")

# Tried in order after ISO 8601 when neither the field nor [source] names formats.
DEFAULT_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M")


class MappingError(WentiError):
    """A mapping file that cannot be used; nothing was imported."""

    message_id = N_("{file}: the mapping is invalid.")

    def translated(self, gettext: Any) -> str:
        # `expected` and `table` may themselves be msgids (such as "top level").
        params = dict(self.params)
        for name in ("expected", "table"):
            if isinstance(params.get(name), str):
                params[name] = gettext(params[name])
        return gettext(self.message_id).format(**params)


@attrs.frozen
class FieldSpec:
    """Where one issue field comes from: a column, several columns, a template or a constant."""

    column: str | None = None
    columns: tuple[str, ...] = ()
    template: str | None = None
    value: str | None = None
    extract: str | None = None
    max_length: int | None = None
    split: str | None = None
    format: str | None = None

    def source_columns(self) -> tuple[str, ...]:
        """Columns this field reads, so a missing header is caught before the first row."""
        names = list(self.columns)
        if self.column is not None:
            names.append(self.column)
        if self.template is not None:
            from wenti.importing.transform import template_columns

            names.extend(template_columns(self.template))
        return tuple(names)


@attrs.frozen
class ValueMap:
    """Translation of source values (such as `Blocker`) into wenti values (such as `critical`)."""

    mapping: dict[str, str]
    default: str | None = None
    other: str | None = None
    unknown: str = "reject"
    ignore_case: bool = False

    def lookup_table(self) -> dict[str, str]:
        if not self.ignore_case:
            return dict(self.mapping)
        return {key.casefold(): value for key, value in self.mapping.items()}


@attrs.frozen
class SourceSpec:
    format: str | None = None
    encoding: str = "auto"
    timezone: str | None = None
    external_id: FieldSpec | None = None
    name: str = "import"
    sheet: str | None = None
    delimiter: str = ","
    time_formats: tuple[str, ...] = ()
    # Drop the `'` that `wenti export` puts before CSV cells starting with = + - @.
    unescape_formulas: bool = False


@attrs.frozen
class Mapping:
    """A checked mapping file."""

    path: str
    source: SourceSpec
    queue: str | None
    fields: dict[str, FieldSpec]
    custom: dict[str, FieldSpec]
    values: dict[str, ValueMap]
    custom_prefix: str | None = None

    def columns(self) -> set[str]:
        """Every column the mapping reads."""
        names: set[str] = set()
        specs = [*self.fields.values(), *self.custom.values()]
        if self.source.external_id is not None:
            specs.append(self.source.external_id)
        for spec in specs:
            names.update(spec.source_columns())
        return names


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file. Raises `MappingError` on the first problem found."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MappingError(N_("Cannot read mapping file {file}: {error}"), file=str(path), error=error.strerror or str(error)) from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise MappingError(
            N_("{file}: a mapping file must be UTF-8 text; the byte at offset {offset} is not. Save it as UTF-8."),
            file=str(path),
            offset=error.start,
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise MappingError(N_("{file}: not valid TOML: {error}"), file=str(path), error=str(error)) from None
    return parse_mapping(document, str(path))


def parse_mapping(document: AnyMapping[str, Any], file: str = "<mapping>") -> Mapping:
    """Check a parsed TOML document and build the `Mapping`."""
    _reject_unknown_keys(document, TOP_LEVEL_KEYS, file, "")

    queue = document.get("queue")
    if queue is not None and (not isinstance(queue, str) or not queue):
        _invalid(file, "", "queue", queue, N_("a queue key such as \"it\""))

    source = _parse_source(_table(document, "source", file), file)
    fields_table = _table(document, "fields", file)
    fields, custom = _parse_fields(fields_table, file)
    values = _parse_values(_table(document, "values", file), file)

    if "title" not in fields:
        raise MappingError(
            N_("{file}: [fields] has no title. Add a line such as title = \"Summary\" naming the column that holds the title."),
            file=file,
        )

    has_times = any(name in fields for name in TIME_FIELDS)
    if has_times and source.timezone is None:
        raise MappingError(
            N_("{file}: [source] timezone is missing, but the mapping reads times. State the zone the times were recorded in, e.g. timezone = \"Asia/Shanghai\" or \"UTC\"."),
            file=file,
        )

    return Mapping(
        path=file,
        source=source,
        queue=queue,
        fields=fields,
        custom=custom,
        values=values,
        custom_prefix=_parse_custom_prefix(fields_table, file),
    )


def _parse_source(table: dict[str, Any], file: str) -> SourceSpec:
    _reject_unknown_keys(table, SOURCE_KEYS, file, "source")
    kwargs: dict[str, Any] = {}

    fmt = table.get("format")
    if fmt is not None:
        if fmt not in FORMATS:
            _invalid(file, "source", "format", fmt, ", ".join(FORMATS))
        kwargs["format"] = fmt

    encoding = table.get("encoding", "auto")
    if not isinstance(encoding, str):
        _invalid(file, "source", "encoding", encoding, N_("\"auto\" or a codec name such as \"gb18030\""))
    if encoding != "auto":
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            _invalid(file, "source", "encoding", encoding, N_("\"auto\" or a codec name such as \"gb18030\""))
    kwargs["encoding"] = encoding

    zone = table.get("timezone")
    if zone is not None:
        if not isinstance(zone, str):
            _invalid(file, "source", "timezone", zone, N_("an IANA time zone such as \"Asia/Shanghai\" or \"UTC\""))
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            _invalid(file, "source", "timezone", zone, N_("an IANA time zone such as \"Asia/Shanghai\" or \"UTC\""))
        kwargs["timezone"] = zone

    if "external_id" in table:
        kwargs["external_id"] = _parse_field_spec(table["external_id"], file, "source", "external_id")

    for key in ("name", "sheet", "delimiter"):
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not value:
                _invalid(file, "source", key, value, N_("a non-empty string"))
            kwargs[key] = value
    if len(kwargs.get("delimiter", ",")) != 1:
        _invalid(file, "source", "delimiter", kwargs["delimiter"], N_("one character such as \",\" or \";\""))

    if "time_formats" in table:
        kwargs["time_formats"] = _string_list(table["time_formats"], file, "source", "time_formats")

    if "unescape_formulas" in table:
        if not isinstance(table["unescape_formulas"], bool):
            _invalid(file, "source", "unescape_formulas", table["unescape_formulas"], N_("true or false"))
        kwargs["unescape_formulas"] = table["unescape_formulas"]

    return SourceSpec(**kwargs)


def _parse_fields(table: dict[str, Any], file: str) -> tuple[dict[str, FieldSpec], dict[str, FieldSpec]]:
    _reject_unknown_keys(table, (*ISSUE_FIELDS, "custom", "custom_prefix"), file, "fields")
    fields = {}
    for name, raw in table.items():
        if name in ("custom", "custom_prefix"):
            continue
        spec = _parse_field_spec(raw, file, "fields", name)
        if spec.extract is not None and name in TIME_FIELDS:
            _invalid(file, "fields", f"{name}.extract", spec.extract, N_("nothing: times take format, not extract"))
        fields[name] = spec

    custom_table = table.get("custom", {})
    if not isinstance(custom_table, dict):
        _invalid(file, "fields", "custom", custom_table, N_("a table such as custom.unit = \"Unit\""))
    custom = {name: _parse_field_spec(raw, file, "fields.custom", name) for name, raw in custom_table.items()}
    return fields, custom


def _parse_custom_prefix(table: dict[str, Any], file: str) -> str | None:
    prefix = table.get("custom_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not prefix):
        _invalid(file, "fields", "custom_prefix", prefix, N_("a column name prefix such as \"custom.\""))
    return prefix


def _parse_field_spec(raw: Any, file: str, table: str, key: str) -> FieldSpec:
    if isinstance(raw, str):
        if not raw:
            _invalid(file, table, key, raw, N_("a column name"))
        return FieldSpec(column=raw)
    if isinstance(raw, list):
        return FieldSpec(columns=_string_list(raw, file, table, key))
    if not isinstance(raw, dict):
        _invalid(file, table, key, raw, N_("a column name, a list of columns, or a table with column, template or value"))

    _reject_unknown_keys(raw, FIELD_KEYS, file, f"{table}.{key}")
    kwargs: dict[str, Any] = {}
    for name in ("column", "template", "value", "split", "format"):
        if name in raw:
            value = raw[name]
            if not isinstance(value, str) or (name != "value" and not value):
                _invalid(file, table, f"{key}.{name}", value, N_("a non-empty string"))
            kwargs[name] = value
    if "columns" in raw:
        kwargs["columns"] = _string_list(raw["columns"], file, table, f"{key}.columns")

    sources = [name for name in ("column", "columns", "template", "value") if name in kwargs]
    if len(sources) != 1:
        _invalid(file, table, key, raw, N_("exactly one of column, columns, template or value"))

    if "extract" in raw:
        if raw["extract"] not in EXTRACTIONS:
            _invalid(file, table, f"{key}.extract", raw["extract"], ", ".join(EXTRACTIONS))
        kwargs["extract"] = raw["extract"]
    if "max_length" in raw:
        limit = raw["max_length"]
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            _invalid(file, table, f"{key}.max_length", limit, N_("a whole number of characters, 1 or more"))
        kwargs["max_length"] = limit

    return FieldSpec(**kwargs)


def _parse_values(table: dict[str, Any], file: str) -> dict[str, ValueMap]:
    _reject_unknown_keys(table, VALUE_MAP_FIELDS, file, "values")
    maps = {}
    for field_name, raw in table.items():
        where = f"values.{field_name}"
        if not isinstance(raw, dict):
            _invalid(file, "values", field_name, raw, N_("a table with map, default and unknown"))
        mapping = raw.get("map", {})
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            _invalid(file, where, "map", mapping, N_("a table of source value = wenti value, both strings"))
        mapping = {**mapping, **_direct_entries(raw, file, where)}
        default = raw.get("default")
        if default is not None and not isinstance(default, str):
            _invalid(file, where, "default", default, N_("a string"))
        other = raw.get("other")
        if other is not None and not isinstance(other, str):
            _invalid(file, where, "other", other, N_("a string"))
        if other is not None and "unknown" in raw:
            _invalid(file, where, "unknown", raw["unknown"], N_("nothing: other already decides what values not in map become"))
        unknown = raw.get("unknown", "reject")
        if unknown not in UNKNOWN_POLICIES:
            _invalid(file, where, "unknown", unknown, ", ".join(UNKNOWN_POLICIES))
        if unknown == "default" and default is None:
            _invalid(file, where, "unknown", unknown, N_("\"reject\" or \"keep\", or also set default = \"...\""))
        ignore_case = raw.get("ignore_case", False)
        if not isinstance(ignore_case, bool):
            _invalid(file, where, "ignore_case", ignore_case, N_("true or false"))

        if field_name == "priority":
            _check_priority_targets(file, where, mapping, default, other)

        maps[field_name] = ValueMap(
            mapping=dict(mapping), default=default, other=other, unknown=unknown, ignore_case=ignore_case
        )
    return maps


def _check_priority_targets(file: str, where: str, mapping: dict[str, str], default: str | None, other: str | None) -> None:
    """Reject a value map that would turn rows into a priority wenti does not have.

    Statuses and queues depend on the instance, so `run_import` checks those.
    """
    known = [priority.value for priority in Priority]
    targets = [*((key, value) for key, value in mapping.items()), ("default", default), ("other", other)]
    for key, value in targets:
        # An empty target leaves the field empty, which the issue's default then fills.
        if value and value.strip().lower() not in known:
            _invalid(file, where, key, value, ", ".join(known))


def _direct_entries(raw: dict[str, Any], file: str, where: str) -> dict[str, str]:
    """Read `"Blocker" = "critical"` written straight in the table, next to `map`.

    A key close to an option name (`defualt`) is taken for a typo and rejected, so
    a misspelt option never becomes a source value silently.
    """
    entries = {}
    for key, value in raw.items():
        if key in VALUE_MAP_KEYS:
            continue
        if difflib.get_close_matches(key, VALUE_MAP_KEYS, n=1, cutoff=0.75):
            _reject_unknown_keys({key: value}, VALUE_MAP_KEYS, file, where)
        if not isinstance(value, str):
            _invalid(file, where, key, value, N_("a wenti value as a string, or an option: map, default, other, unknown, ignore_case"))
        entries[key] = value
    return entries


def _table(document: AnyMapping[str, Any], name: str, file: str) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        _invalid(file, "", name, table, N_("a table"))
    return table


def _string_list(raw: Any, file: str, table: str, key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(item, str) and item for item in raw):
        _invalid(file, table, key, raw, N_("a non-empty list of strings"))
    return tuple(raw)


def _reject_unknown_keys(table: AnyMapping[str, Any], known: tuple[str, ...], file: str, where: str) -> None:
    for key in table:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1)
        hint = close[0] if close else ", ".join(known)
        raise MappingError(
            N_("{file}: unknown key {key} in [{table}]. Did you mean: {hint}?"),
            file=file,
            key=key,
            table=where or N_("top level"),
            hint=hint,
        )


def _invalid(file: str, table: str, key: str, value: Any, expected: str) -> None:
    raise MappingError(
        N_("{file}: [{table}] {key} = {value!r} is invalid; expected {expected}."),
        file=file,
        table=table or N_("top level"),
        key=key,
        value=value,
        expected=expected,
    )
