"""Output for people (aligned tables, local times) and for scripts (JSON)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import click


def display_width(text: str) -> int:
    """Terminal columns `text` takes: CJK characters are two columns wide."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def fit(text: str, width: int) -> str:
    """Cut `text` to `width` columns (ending in …) and pad it to exactly that width."""
    if display_width(text) > width:
        kept = ""
        for char in text:
            if display_width(kept + char) > width - 1:
                break
            kept += char
        text = kept + "…"
    return text + " " * (width - display_width(text))


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> str:
    """Columns aligned by display width; cells longer than `max_width` columns are cut."""
    widths = [display_width(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = min(max(widths[index], display_width(cell)), max_width)
    lines = ["  ".join(fit(header, widths[index]) for index, header in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(fit(cell, widths[index]) for index, cell in enumerate(row)).rstrip())
    return "\n".join(lines)


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    click.echo(render_table(headers, rows))


def local_time(value: dt.datetime | None, timezone: str, seconds: bool = False) -> str:
    """A stored UTC time in the tenant's zone, as `2026-03-01 14:30`."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from attrs records, enums, datetimes (ISO 8601 UTC) and paths."""
    if attrs.has(type(value)):
        return {field.name: to_jsonable(getattr(value, field.name)) for field in attrs.fields(type(value))}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, Path)):
        return str(value)
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(item) for item in value]
    return value


def echo_json(value: Any) -> None:
    click.echo(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2))
