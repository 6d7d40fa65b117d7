"""Turn one source row into the fields of an imported issue, or reject it with a reason."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

from wenti.errors import WentiError
from wenti.i18n import N_
from wenti.importing.mapping import DEFAULT_TIME_FORMATS, TIME_FIELDS, FieldSpec, Mapping, ValueMap
# RowRejected is defined with the readers, which reject unreadable rows too.
from wenti.importing.readers import RowRejected, SourceRow
from wenti.services import fields as F

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")
# A sentence ends at Chinese or Western end punctuation, or at a line break.
_SENTENCE_END = re.compile(r"[。！？!?；;]|\.(?=\s)|\n")
# A title is one line: line breaks become spaces, other characters stay as written.
# The breaks are the ones str.splitlines() splits at, so a U+2028 LINE SEPARATOR
# in a JSON string or a vertical tab separates two words instead of joining them.
_LINE_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")


def lookup(values: dict[str, Any], column: str | None) -> Any:
    """Return the value of `column`; in nested JSON records `fields.priority.name` walks into objects.

    A key that contains dots itself wins over the nested path.
    """
    if column is None:
        return None
    if column in values:
        return values[column]
    current: Any = values
    for part in column.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def template_columns(template: str) -> list[str]:
    return [match.group(1) for match in _PLACEHOLDER.finditer(template) if match.group(1) is not None]


def render_template(template: str, values: dict[str, Any]) -> str:
    """Fill `{column}` placeholders; `{{` and `}}` stand for literal braces."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return _text(lookup(values, match.group(1)))

    return _PLACEHOLDER.sub(replace, template)


def first_sentence(text: str) -> str:
    text = text.strip()
    match = _SENTENCE_END.search(text)
    if match is None:
        return text
    end = match.end() if match.group(0) not in ("\n", ";", "；") else match.start()
    return text[:end].strip()


def row_fingerprint(row: SourceRow) -> str:
    """Make an external id for a source without one: a digest of the row's content."""
    canonical = json.dumps({key: _text(value) for key, value in row.values.items()}, ensure_ascii=False, sort_keys=True)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


class RowMapper:
    """The mapping applied to rows, with value maps and the zone prepared once per import."""

    def __init__(self, mapping: Mapping, queue: str | None = None) -> None:
        self.mapping = mapping
        self.queue_override = queue
        self.zone = ZoneInfo(mapping.source.timezone) if mapping.source.timezone else None
        self.time_formats = mapping.source.time_formats or DEFAULT_TIME_FORMATS
        self._lookups = {name: value_map.lookup_table() for name, value_map in mapping.values.items()}

    def map_row(self, row: SourceRow) -> dict[str, Any]:
        """Map one row to the keyword arguments of an `ImportedIssue`. Raises `RowRejected`."""
        fields = self.mapping.fields
        result: dict[str, Any] = {"queue": self._queue(row), "source": self.mapping.source.name}

        title_column = fields["title"].column
        raw_title = lookup(row.values, title_column) if title_column else None
        if isinstance(raw_title, (list, dict)):
            raise RowRejected(
                N_("row {row}: the title in {column!r} is a JSON {kind}, not text; map title to a column that holds text."),
                row=row.number,
                column=title_column,
                kind="list" if isinstance(raw_title, list) else "object",
            )
        # Exports carry line breaks, tabs and stray control characters (a backspace in
        # the Hadoop JIRA set) in titles. Line breaks and tabs become spaces, the other
        # control characters are dropped, because the issue service rejects them.
        title = _LINE_BREAKS.sub(" ", self._text_field("title", row)).replace("\t", " ")
        title = F.CONTROL_CHARACTER.sub("", title).strip()
        if not title:
            column = fields["title"].column or fields["title"].template or ""
            raise RowRejected(N_("row {row}: the title is empty (from {column!r}). Fill in the title, or map title to another column or a template."), row=row.number, column=column)
        result["title"] = title

        if "description" in fields:
            result["description"] = self._text_field("description", row)

        for name in ("priority", "category", "status", "assignee", "reporter"):
            if name in fields or (name in self.mapping.values and self.mapping.values[name].default is not None):
                value = self._mapped_value(name, row)
                if value:
                    result[name] = value

        if "tags" in fields:
            result["tags"] = self._tags(fields["tags"], row)

        for name in TIME_FIELDS:
            if name in fields:
                result[name] = self._time(name, fields[name], row)
        self._check_time_order(result, row)

        custom = {}
        prefix = self.mapping.custom_prefix
        if prefix:
            for column, value in row.values.items():
                if column.startswith(prefix) and len(column) > len(prefix) and value not in ("", None):
                    custom[column[len(prefix) :]] = value
        for name, spec in self.mapping.custom.items():
            value = self._extract(spec, row)
            if value != "":
                custom[name] = value
        result["custom_fields"] = custom

        result["external_id"] = self._external_id(row)
        return result

    def _queue(self, row: SourceRow) -> str:
        """--queue first, then the row's queue column, then the mapping's queue."""
        if self.queue_override:
            return self.queue_override
        queue = self._mapped_value("queue", row) if "queue" in self.mapping.fields else None
        queue = queue or self.mapping.queue
        if not queue:
            raise RowRejected(
                N_("row {row}: no queue to import into. Fill the queue column, set queue = \"...\" in the mapping, or pass --queue."),
                row=row.number,
            )
        return queue

    def _text_field(self, name: str, row: SourceRow) -> str:
        return self._extract(self.mapping.fields[name], row)

    def _extract(self, spec: FieldSpec, row: SourceRow) -> str:
        if spec.value is not None:
            text = spec.value
        elif spec.template is not None:
            text = render_template(spec.template, row.values)
        elif spec.columns:
            text = "\n".join(part for part in (_text(lookup(row.values, c)) for c in spec.columns) if part)
        else:
            text = _text(lookup(row.values, spec.column))

        if spec.extract == "first_sentence":
            text = first_sentence(text)
        elif spec.extract == "first_line":
            text = text.strip().split("\n", 1)[0].strip()
        if spec.max_length is not None and len(text) > spec.max_length:
            text = text[: spec.max_length - 1].rstrip() + "…"
        return text

    def _mapped_value(self, name: str, row: SourceRow) -> str | None:
        spec = self.mapping.fields.get(name)
        raw = self._extract(spec, row).strip() if spec is not None else ""
        value_map = self.mapping.values.get(name)
        if value_map is None:
            return raw or None
        return self._apply_value_map(name, raw, value_map, row)

    def _apply_value_map(self, name: str, raw: str, value_map: ValueMap, row: SourceRow) -> str | None:
        if not raw:
            return value_map.default
        key = raw.casefold() if value_map.ignore_case else raw
        mapped = self._lookups[name].get(key)
        if mapped is not None:
            return mapped
        if value_map.other is not None:
            return value_map.other
        if value_map.unknown == "keep":
            return raw
        if value_map.unknown == "default":
            return value_map.default
        known = ", ".join(sorted(value_map.mapping)) or "-"
        raise RowRejected(
            N_("row {row}: unknown {field} {value!r}. Known values: {known}. Add it under [values.{field}] map in the mapping, or set unknown = \"keep\" or \"default\"."),
            row=row.number,
            field=name,
            value=raw,
            known=known,
        )

    def _tags(self, spec: FieldSpec, row: SourceRow) -> list[str]:
        raw_values: list[Any]
        if spec.columns:
            raw_values = [lookup(row.values, column) for column in spec.columns]
        elif spec.column is not None:
            raw_values = [lookup(row.values, spec.column)]
        else:
            raw_values = [self._extract(spec, row)]

        tags: list[str] = []
        for raw in raw_values:
            parts = raw if isinstance(raw, list) else [_text(raw)]
            for part in parts:
                pieces = _text(part).split(spec.split) if spec.split else [_text(part)]
                for piece in pieces:
                    tag = piece.strip()
                    if tag and tag not in tags:
                        tags.append(tag)
        return tags

    def _time(self, name: str, spec: FieldSpec, row: SourceRow) -> dt.datetime | None:
        raw: Any = lookup(row.values, spec.column) if spec.column is not None else self._extract(spec, row)
        if isinstance(raw, dt.datetime):
            parsed = raw
        elif isinstance(raw, dt.date):
            parsed = dt.datetime.combine(raw, dt.time())
        else:
            text = _text(raw).strip()
            if not text:
                return None
            parsed = self._parse_time(text, spec, name, row)

        if parsed.tzinfo is None:
            assert self.zone is not None  # load_mapping requires a zone when times are mapped
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(dt.timezone.utc)

    def _parse_time(self, text: str, spec: FieldSpec, name: str, row: SourceRow) -> dt.datetime:
        formats = (spec.format,) if spec.format else self.time_formats
        if spec.format is None:
            try:
                return dt.datetime.fromisoformat(text)
            except ValueError:
                pass
        for fmt in formats:
            try:
                return dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
        expected = spec.format or "ISO 8601 (2024-03-01 14:30:00), " + ", ".join(formats)
        raise RowRejected(
            N_("row {row}: {field} {value!r} is not a time in a known format ({expected}). Fix the cell, or set format = \"...\" for {field} in the mapping."),
            row=row.number,
            field=name,
            value=text,
            expected=expected,
        )

    def _check_time_order(self, result: dict[str, Any], row: SourceRow) -> None:
        created = result.get("created_at")
        for name in ("resolved_at", "closed_at"):
            later = result.get(name)
            if created is not None and later is not None and later < created:
                raise RowRejected(
                    N_("row {row}: {field} {later} is before created_at {created}. Fix one of the two cells."),
                    row=row.number,
                    field=name,
                    later=later.isoformat(),
                    created=created.isoformat(),
                )

    def _external_id(self, row: SourceRow) -> str:
        spec = self.mapping.source.external_id
        if spec is None:
            return row_fingerprint(row)
        value = self._extract(spec, row).strip()
        if not value:
            raise RowRejected(
                N_("row {row}: the external id is empty (column {column!r}). Every row needs one so a second import can skip it."),
                row=row.number,
                column=spec.column or spec.template or "",
            )
        return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
