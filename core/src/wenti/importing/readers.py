"""Readers for the files people import: CSV, Excel (XLSX) and JSON Lines.

Each reader returns a `SourceTable`: the column names and the rows as dicts, each
with the number a person would look for in the file (the spreadsheet row for CSV
and XLSX, where the header is row 1; the line number for JSON Lines).

CSV files from Chinese offices arrive as UTF-8 with or without a byte-order mark,
or as GBK/GB18030 (what Excel writes on a Chinese Windows). With `encoding = "auto"`
the reader decodes strictly as UTF-8 (dropping a BOM), then as GB18030, and fails
with the byte offsets when neither decodes the whole file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from wenti.errors import NotFound, WentiError
from wenti.exporting import unescape_formula
from wenti.i18n import N_
from wenti.importing.mapping import FORMATS, SourceSpec


class SourceFileError(WentiError):
    """A file that cannot be read as the mapping describes; nothing was imported."""

    message_id = N_("{file}: cannot be read.")


class SourceFileNotFound(SourceFileError, NotFound):
    """The file to import does not exist; the command line exits with the not-found code."""


class RowRejected(WentiError):
    """One source row that cannot become an issue. The import goes on with the other rows."""

    message_id = N_("The row is invalid.")


@attrs.frozen
class SourceRow:
    number: int
    values: dict[str, Any]


@attrs.frozen
class SourceTable:
    path: str
    columns: tuple[str, ...]
    rows: list[SourceRow]
    format: str = "csv"
    encoding: str | None = None
    # Rows the reader could not read (a bad JSON line, a CSV row with too many or
    # too few cells); the import reports them with the rows the mapping rejects.
    unreadable: list[tuple[SourceRow, RowRejected]] = attrs.Factory(list)


def detect_format(path: Path, source: SourceSpec) -> str:
    """The file format from the mapping, else from the file suffix."""
    if source.format is not None:
        return source.format
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in FORMATS:
        return suffix
    raise SourceFileError(
        N_("{file}: cannot tell the format from the suffix {suffix!r}. Set format = \"csv\", \"xlsx\" or \"jsonl\" in [source] of the mapping."),
        file=str(path),
        suffix=path.suffix,
    )


def read_table(path: str | Path, source: SourceSpec) -> SourceTable:
    """Read the whole file into memory.

    NOTE: files are read in one piece, which suits spreadsheets of up to a few
    hundred thousand rows; a larger export should be split first.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceFileNotFound(N_("{file}: no such file."), file=str(path))
    fmt = detect_format(path, source)
    if fmt == "xlsx":
        return _read_xlsx(path, source)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceFileError(N_("{file}: cannot be read: {error}"), file=str(path), error=error.strerror or str(error)) from None
    text, encoding = decode_text(data, str(path), source.encoding)
    if fmt == "jsonl":
        return _read_jsonl(text, str(path), encoding)
    table = _read_csv(text, str(path), encoding, source.delimiter)
    if source.unescape_formulas:
        rows = [SourceRow(row.number, {name: unescape_formula(value) for name, value in row.values.items()}) for row in table.rows]
        table = attrs.evolve(table, rows=rows)
    return table


def decode_text(data: bytes, file: str, encoding: str = "auto") -> tuple[str, str]:
    """Decode file bytes; return the text and the codec that worked."""
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as error:
            raise SourceFileError(
                N_("{file}: the byte at offset {offset} is not valid {encoding}. Check the file, or set the right encoding = \"...\" in [source] of the mapping (\"auto\" tries UTF-8, then GB18030)."),
                file=file,
                offset=error.start,
                encoding=encoding,
            ) from None

    try:
        return data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as utf8_error:
        utf8_offset = utf8_error.start
    if _looks_like_broken_utf8(data, utf8_offset):
        raise SourceFileError(
            N_("{file}: is UTF-8 up to a byte that is not (offset {offset}), so the file looks damaged. Repair or export it again, or set encoding = \"...\" in [source] of the mapping if it is not UTF-8."),
            file=file,
            offset=utf8_offset,
        )
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as gb_error:
        raise SourceFileError(
            N_("{file}: is neither UTF-8 (invalid byte at offset {utf8_offset}) nor GB18030 (invalid byte at offset {gb_offset}). Set encoding = \"...\" in [source] of the mapping to the file's encoding, e.g. \"utf-16\" or \"big5\"."),
            file=file,
            utf8_offset=utf8_offset,
            gb_offset=gb_error.start,
        ) from None


# Non-ASCII characters that must decode as UTF-8 before a bad byte for the file to
# count as damaged UTF-8 rather than GB18030. Chinese GBK text contains byte pairs
# that are valid UTF-8 by chance, but not many in a row.
# NOTE: a threshold chosen by reasoning about the encodings, not measured on files.
_UTF8_EVIDENCE_CHARACTERS = 16


def _looks_like_broken_utf8(data: bytes, offset: int) -> bool:
    prefix = data[:offset].decode("utf-8-sig", errors="replace")
    return sum(1 for char in prefix if ord(char) > 0x7F) >= _UTF8_EVIDENCE_CHARACTERS


def _read_csv(text: str, file: str, encoding: str, delimiter: str) -> SourceTable:
    # newline="" keeps line breaks inside quoted cells exactly as written.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise SourceFileError(N_("{file}: the header row is not valid CSV: {error}"), file=file, error=str(error)) from None
    if not header:
        raise SourceFileError(N_("{file}: is empty; the first row must name the columns."), file=file)
    columns = _check_header([name.strip() for name in header], file)

    rows = []
    unreadable: list[tuple[SourceRow, RowRejected]] = []
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise SourceFileError(
                N_("{file}: row {row} is not valid CSV ({error}). Fix the quoting in that row and import again; nothing was imported."),
                file=file,
                row=number + 1,
                error=str(error),
            ) from None
        # The spreadsheet row number: the reader's line count includes line breaks in cells.
        number += 1
        if not any(cell.strip() for cell in cells):
            continue
        # Empty cells after the last column (a trailing comma) change nothing.
        while len(cells) > len(columns) and not cells[-1].strip():
            cells.pop()
        values = {name: (cells[index] if index < len(cells) else "") for index, name in enumerate(columns)}
        if len(cells) != len(columns):
            error = RowRejected(
                N_("row {row}: has {cells} cells but the header has {columns} columns. Fix the row (often a missing or extra separator {delimiter!r}) and import it again."),
                row=number,
                cells=len(cells),
                columns=len(columns),
                delimiter=delimiter,
            )
            unreadable.append((SourceRow(number=number, values=values), error))
            continue
        rows.append(SourceRow(number=number, values=values))
    return SourceTable(path=file, columns=columns, rows=rows, encoding=encoding, unreadable=unreadable)


def _read_jsonl(text: str, file: str, encoding: str) -> SourceTable:
    rows = []
    unreadable: list[tuple[SourceRow, RowRejected]] = []
    columns: dict[str, None] = {}
    # str.splitlines() would also split at U+2028 inside JSON strings; lines end at \n only.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            rejected = RowRejected(
                N_("row {row}: not valid JSON ({error} at column {column}). Each line must hold one JSON object."),
                row=number,
                error=error.msg,
                column=error.colno,
            )
            unreadable.append((SourceRow(number=number, values={"line": line}), rejected))
            continue
        if not isinstance(record, dict):
            rejected = RowRejected(
                N_("row {row}: holds a JSON {kind}, not an object. Each line must hold one JSON object."),
                row=number,
                kind=type(record).__name__,
            )
            unreadable.append((SourceRow(number=number, values={"line": line}), rejected))
            continue
        for key in record:
            columns.setdefault(key)
        rows.append(SourceRow(number=number, values=record))
    return SourceTable(path=file, columns=tuple(columns), rows=rows, format="jsonl", encoding=encoding, unreadable=unreadable)


def _read_xlsx(path: Path, source: SourceSpec) -> SourceTable:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as error:
        raise SourceFileError(
            N_("{file}: is not an Excel .xlsx workbook ({error}). Save it as .xlsx, or as CSV and set format = \"csv\"."),
            file=str(path),
            error=str(error) or type(error).__name__,
        ) from None
    try:
        if source.sheet is not None:
            if source.sheet not in workbook.sheetnames:
                raise SourceFileError(
                    N_("{file}: has no sheet {sheet!r}. Its sheets are: {sheets}. Fix sheet = \"...\" in [source] of the mapping."),
                    file=str(path),
                    sheet=source.sheet,
                    sheets=", ".join(workbook.sheetnames),
                )
            sheet = workbook[source.sheet]
        else:
            sheet = workbook.worksheets[0]
        return _sheet_table(sheet.iter_rows(values_only=True), str(path))
    finally:
        workbook.close()


def _sheet_table(cells: Iterator[tuple[Any, ...]], file: str) -> SourceTable:
    header = next(cells, None)
    if header is None or not any(cell is not None for cell in header):
        raise SourceFileError(N_("{file}: is empty; the first row must name the columns."), file=file)
    # Trailing empty header cells are common in edited sheets; ignore them.
    names = [("" if cell is None else str(cell).strip()) for cell in header]
    while names and not names[-1]:
        names.pop()
    columns = _check_header(names, file)

    rows = []
    for number, row in enumerate(cells, start=2):
        values = {name: _cell_value(row[index] if index < len(row) else None) for index, name in enumerate(columns)}
        if not any(value not in ("", None) for value in values.values()):
            continue
        rows.append(SourceRow(number=number, values=values))
    return SourceTable(path=file, columns=columns, rows=rows, format="xlsx")


def _cell_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    return str(value) if not isinstance(value, str) else value


def _check_header(names: list[str], file: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise SourceFileError(
                N_("{file}: column {position} of the header row has no name. Name it or delete the column."),
                file=file,
                position=position,
            )
        if name in seen:
            raise SourceFileError(
                N_("{file}: the header names column {name!r} twice. Rename one of them."),
                file=file,
                name=name,
            )
        seen.add(name)
    return tuple(names)
