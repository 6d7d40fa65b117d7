"""Readers for the files people import: CSV, Excel (XLSX) and JSON Lines.

`open_source` opens a file for import: it checks that the whole file decodes and,
for CSV, that every row parses, then returns a `SourceStream` whose rows are read
again from the file batch by batch, so a file of a million rows is never held in
memory. Each row carries the number a person would look for in the file (the
spreadsheet row for CSV and XLSX, where the header is row 1; the line number for
JSON Lines). `read_table` reads a whole file into a `SourceTable`, for callers that
want every row at once.

CSV files from Chinese offices arrive as UTF-8 with or without a byte-order mark,
or as GBK/GB18030 (what Excel writes on a Chinese Windows). With `encoding = "auto"`
the reader decodes strictly as UTF-8 (dropping a BOM), then as GB18030, and fails
with the byte offsets when neither decodes the whole file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

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

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.unreadable)

    def items(self) -> Iterator[tuple[SourceRow, RowRejected | None]]:
        """Yield every row with None, or with the reason it could not be read, in file order."""
        entries: list[tuple[SourceRow, RowRejected | None]] = [(row, None) for row in self.rows]
        entries.extend(self.unreadable)
        entries.sort(key=lambda entry: entry[0].number)
        return iter(entries)


@attrs.frozen
class SourceStream:
    """A file checked and opened for import; `items()` reads its rows from the file on each call.

    `columns` is empty for JSON Lines, where every record names its own keys.
    `row_count` counts the rows `items()` yields; for XLSX it comes from the
    sheet's stored dimensions, which editing programs may leave too large.
    """

    path: str
    columns: tuple[str, ...]
    format: str
    encoding: str | None
    row_count: int
    _read: Callable[[], Iterator[tuple[SourceRow, RowRejected | None]]] = attrs.field(alias="read")

    def items(self) -> Iterator[tuple[SourceRow, RowRejected | None]]:
        """Yield every row with None, or with the reason it could not be read, in file order."""
        return self._read()


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
    """Read the whole file into memory; `open_source` reads it batch by batch instead."""
    stream = open_source(path, source)
    rows: list[SourceRow] = []
    unreadable: list[tuple[SourceRow, RowRejected]] = []
    columns: dict[str, None] = dict.fromkeys(stream.columns)
    for row, error in stream.items():
        if error is not None:
            unreadable.append((row, error))
            continue
        rows.append(row)
        if stream.format == "jsonl":
            for key in row.values:
                columns.setdefault(key)
    return SourceTable(
        path=stream.path, columns=tuple(columns), rows=rows, format=stream.format, encoding=stream.encoding, unreadable=unreadable
    )


def open_source(path: str | Path, source: SourceSpec) -> SourceStream:
    """Check the file and open it for reading row by row.

    Raises `SourceFileError` before any row is read when the file cannot be
    decoded, a CSV row has broken quoting, or the header is missing or invalid, so
    an import that starts never stops half-way because of the file's form.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceFileNotFound(N_("{file}: no such file."), file=str(path))
    fmt = detect_format(path, source)
    snapshot = _Snapshot.take(path)
    if fmt == "xlsx":
        return _open_xlsx(snapshot, source)
    encoding = detect_encoding(path, source.encoding, size=snapshot.size)
    if fmt == "jsonl":
        return _open_jsonl(snapshot, encoding)
    return _open_csv(snapshot, encoding, source.delimiter, source.unescape_formulas)


@attrs.frozen
class _Snapshot:
    """The identity and size of an import file when the import checked it.

    Every later pass of a text file reads only these bytes of this file, so lines
    appended during the import are neither read unchecked nor counted. A file
    deleted or replaced after the check is reported instead of read.
    """

    path: Path
    size: int
    device: int
    inode: int

    @classmethod
    def take(cls, path: Path) -> _Snapshot:
        try:
            status = path.stat()
        except OSError as error:
            raise SourceFileError(N_("{file}: cannot be read: {error}"), file=str(path), error=error.strerror or str(error)) from None
        return cls(path=path, size=status.st_size, device=status.st_dev, inode=status.st_ino)

    def check_unchanged(self) -> None:
        """Raise `SourceFileError` when the file at `path` is no longer the checked one."""
        try:
            status = self.path.stat()
        except FileNotFoundError:
            raise _file_changed(self.path) from None
        except OSError as error:
            raise SourceFileError(N_("{file}: cannot be read: {error}"), file=str(self.path), error=error.strerror or str(error)) from None
        if (status.st_dev, status.st_ino, status.st_size) != (self.device, self.inode, self.size):
            raise _file_changed(self.path)


class _BoundedReader(io.RawIOBase):
    """A reader of the first `size` bytes of a binary file. `remaining` counts the bytes not returned yet."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle = handle
        self.remaining = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        length = min(len(buffer), self.remaining)
        if length <= 0:
            return 0
        data = self.handle.read(length)
        buffer[: len(data)] = data
        self.remaining -= len(data)
        return len(data)


def _file_changed(path: Path) -> SourceFileError:
    return SourceFileError(
        N_("{file}: was changed, replaced or deleted while it was imported. Batches written before the change stay imported; when the file is complete, run the same command again, which skips the rows already imported."),
        file=str(path),
    )


def _text_lines(snapshot: _Snapshot, encoding: str, newline: str) -> Iterator[str]:
    """Yield the decoded lines of the checked bytes of a file that `detect_encoding` accepted."""
    path = snapshot.path
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            if (status.st_dev, status.st_ino) != (snapshot.device, snapshot.inode):
                raise _file_changed(path)
            bounded = _BoundedReader(handle, snapshot.size)
            with io.TextIOWrapper(io.BufferedReader(bounded), encoding=encoding, newline=newline) as text:
                yield from text
            if bounded.remaining > 0:
                # The file became shorter than it was when it was checked.
                raise _file_changed(path)
    except FileNotFoundError:
        raise _file_changed(path) from None
    except UnicodeDecodeError:
        # The file decoded when the import began, so it was changed since.
        raise SourceFileError(
            N_("{file}: changed while it was imported and no longer decodes as {encoding}. Import it again when it is complete."),
            file=str(path),
            encoding=encoding,
        ) from None
    except OSError as error:
        raise SourceFileError(N_("{file}: cannot be read: {error}"), file=str(path), error=error.strerror or str(error)) from None


def decode_text(data: bytes, file: str, encoding: str = "auto") -> tuple[str, str]:
    """Decode file bytes; return the text and the codec that worked."""
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as error:
            raise SourceFileError(
                N_("{file}: the byte at offset {offset} is not valid {encoding}. Check the file, or set the right encoding = \"...\" in [source] of the mapping (\"auto\" tries UTF-8, then GB18030)."),
                file=file,
                offset=error.start + _bom_length(data, encoding),
                encoding=encoding,
            ) from None

    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_text(data, file, "utf-16")
    try:
        return data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as utf8_error:
        # The codec reports offsets after a byte-order mark; count from the first byte.
        utf8_offset = utf8_error.start + _bom_length(data, "utf-8-sig")
    if _looks_like_broken_utf8(data, utf8_offset):
        raise SourceFileError(
            N_("{file}: is UTF-8 up to a byte that is not (offset {offset}), so the file looks damaged. Repair or export it again, or set encoding = \"...\" in [source] of the mapping if it is not UTF-8."),
            file=file,
            offset=utf8_offset,
        )
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as gb_error:
        raise SourceFileError(
            N_("{file}: is neither UTF-8 (invalid byte at offset {utf8_offset}) nor GB18030 (invalid byte at offset {gb_offset}). Set encoding = \"...\" in [source] of the mapping to the file's encoding, e.g. \"utf-16\" or \"big5\"."),
            file=file,
            utf8_offset=utf8_offset,
            gb_offset=gb_error.start,
        ) from None
    private = _PRIVATE_USE.search(text)
    if private is not None:
        raise _private_use_error(file, len(text[: private.start()].encode("gb18030")), private.group())
    return text, "gb18030"


# Non-ASCII characters that must decode as UTF-8 before a bad byte for the file to
# count as damaged UTF-8 rather than GB18030. Chinese GBK text contains byte pairs
# that are valid UTF-8 by chance, but not many in a row.
# NOTE: a threshold chosen by reasoning about the encodings, not measured on files.
_UTF8_EVIDENCE_CHARACTERS = 16


def _bom_length(data: bytes, encoding: str) -> int:
    """Return the length of the UTF-8 byte-order mark that the `utf-8-sig` codec skips before counting offsets."""
    if data.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name == "utf-8-sig":
        return len(codecs.BOM_UTF8)
    return 0


def _looks_like_broken_utf8(data: bytes, offset: int) -> bool:
    prefix = data[:offset].decode("utf-8-sig", errors="replace")
    return sum(1 for char in prefix if ord(char) > 0x7F) >= _UTF8_EVIDENCE_CHARACTERS


# Bytes decoded per step when a file is checked without reading it whole.
SCAN_CHUNK_BYTES = 1 << 20

_NON_ASCII = re.compile("[^\x00-\x7f]")


def detect_encoding(path: Path, encoding: str = "auto", chunk_bytes: int = SCAN_CHUNK_BYTES, size: int | None = None) -> str:
    """Decode the file step by step and return the codec that decodes all of it.

    Chooses and fails exactly as `decode_text` does on the whole file's bytes, but
    holds only `chunk_bytes` of it at a time. With `size`, only the file's first
    `size` bytes are decoded.
    """
    file = str(path)
    if encoding != "auto":
        offset, _evidence = _scan(path, encoding, chunk_bytes, size)
        if offset is not None:
            raise SourceFileError(
                N_("{file}: the byte at offset {offset} is not valid {encoding}. Check the file, or set the right encoding = \"...\" in [source] of the mapping (\"auto\" tries UTF-8, then GB18030)."),
                file=file,
                offset=offset,
                encoding=encoding,
            )
        return encoding

    if _starts_with_utf16_bom(path):
        return detect_encoding(path, "utf-16", chunk_bytes, size)
    utf8_offset, evidence = _scan(path, "utf-8-sig", chunk_bytes, size)
    if utf8_offset is None:
        return "utf-8-sig"
    if evidence >= _UTF8_EVIDENCE_CHARACTERS:
        raise SourceFileError(
            N_("{file}: is UTF-8 up to a byte that is not (offset {offset}), so the file looks damaged. Repair or export it again, or set encoding = \"...\" in [source] of the mapping if it is not UTF-8."),
            file=file,
            offset=utf8_offset,
        )
    gb_offset, _evidence = _scan(path, "gb18030", chunk_bytes, size)
    if gb_offset is None:
        private = _first_private_use(path, "gb18030", chunk_bytes, size)
        if private is not None:
            raise _private_use_error(file, *private)
        return "gb18030"
    raise SourceFileError(
        N_("{file}: is neither UTF-8 (invalid byte at offset {utf8_offset}) nor GB18030 (invalid byte at offset {gb_offset}). Set encoding = \"...\" in [source] of the mapping to the file's encoding, e.g. \"utf-16\" or \"big5\"."),
        file=file,
        utf8_offset=utf8_offset,
        gb_offset=gb_offset,
    )


# Unicode's Private Use Area. GB18030 maps byte pairs that GBK leaves unassigned
# there, and Big5 text read as GB18030 lands on them; real Chinese text rarely does.
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def _private_use_error(file: str, offset: int, character: str) -> SourceFileError:
    return SourceFileError(
        N_("{file}: decodes as GB18030, but the character at byte offset {offset} ({code}) is a private-use character, which Chinese text rarely contains, so the file is probably in another encoding such as Big5. Set encoding = \"big5\" (or the file's encoding) in [source] of the mapping, or encoding = \"gb18030\" if the file really is GB18030."),
        file=file,
        offset=offset,
        code=f"U+{ord(character):04X}",
    )


def _starts_with_utf16_bom(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            start = handle.read(2)
    except OSError as error:
        raise SourceFileError(N_("{file}: cannot be read: {error}"), file=str(path), error=error.strerror or str(error)) from None
    return start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _first_private_use(path: Path, encoding: str, chunk_bytes: int, size: int | None) -> tuple[int, str] | None:
    """Return the byte offset and the first private-use character of a file that decodes, or None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    position = 0
    remaining = size
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(chunk_bytes if remaining is None else min(chunk_bytes, remaining))
            if remaining is not None:
                remaining -= len(chunk)
            text = decoder.decode(chunk, final=not chunk)
            found = _PRIVATE_USE.search(text)
            if found is not None:
                return position + len(text[: found.start()].encode(encoding)), found.group()
            # Counts the bytes of the decoded text, so bytes still pending in the decoder wait for the next chunk.
            position += len(text.encode(encoding))
            if not chunk:
                return None


def _scan(path: Path, encoding: str, chunk_bytes: int, size: int | None = None) -> tuple[int | None, int]:
    """Find the offset of the first byte `encoding` cannot decode (None if every byte decodes).

    Also returns the number of non-ASCII characters before that byte, counted up
    to `_UTF8_EVIDENCE_CHARACTERS`.
    """
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise SourceFileError(
            N_("{file}: the mapping names the unknown encoding {encoding!r}. Use a Python codec name such as \"utf-8\", \"gb18030\" or \"big5\"."),
            file=str(path),
            encoding=encoding,
        ) from None
    evidence = 0
    position = 0
    try:
        with open(path, "rb") as handle:
            if codec.name == "utf-8-sig":
                # Skip the byte-order mark here, so offsets count from the file's first byte.
                position = len(codecs.BOM_UTF8) if handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8 else 0
                handle.seek(position)
                codec = codecs.lookup("utf-8")
            decoder = codec.incrementaldecoder(errors="strict")
            while True:
                length = chunk_bytes if size is None else min(chunk_bytes, size - position)
                chunk = handle.read(length) if length > 0 else b""
                final = not chunk
                pending = decoder.getstate()[0]
                try:
                    text = decoder.decode(chunk, final=final)
                except UnicodeDecodeError as error:
                    # The decoder reports positions in its pending bytes followed by this chunk.
                    start = position - len(pending) + error.start
                    if evidence < _UTF8_EVIDENCE_CHARACTERS:
                        valid = (pending + chunk)[: error.start]
                        evidence += _count_non_ascii(valid.decode(codec.name, errors="replace"))
                    return start, evidence
                if evidence < _UTF8_EVIDENCE_CHARACTERS and not text.isascii():
                    evidence += _count_non_ascii(text)
                position += len(chunk)
                if final:
                    return None, evidence
    except OSError as error:
        raise SourceFileError(N_("{file}: cannot be read: {error}"), file=str(path), error=error.strerror or str(error)) from None


def _count_non_ascii(text: str) -> int:
    return sum(1 for _match in itertools.islice(_NON_ASCII.finditer(text), _UTF8_EVIDENCE_CHARACTERS))


def _open_csv(snapshot: _Snapshot, encoding: str, delimiter: str, unescape_formulas: bool) -> SourceStream:
    """Read the header, parse every row once to find broken quoting, and count the rows."""
    file = str(snapshot.path)
    rows = _CsvRecords(snapshot, encoding, delimiter)
    columns = _csv_header(rows, file)
    count = sum(1 for _number, _cells in rows)

    def read() -> Iterator[tuple[SourceRow, RowRejected | None]]:
        records = _CsvRecords(snapshot, encoding, delimiter, checked=True)
        _csv_header(records, file)
        for number, cells in records:
            row, error = _csv_row(number, cells, columns, delimiter)
            if unescape_formulas:
                row = SourceRow(row.number, {name: unescape_formula(value) for name, value in row.values.items()})
            yield row, error

    return SourceStream(path=file, columns=columns, format="csv", encoding=encoding, row_count=count, read=read)


# The longest CSV cell an import reads, in characters. Python's csv module stops at
# 131,072 by default, which a description with a pasted log can pass. The limit
# still bounds the memory that a quote never closed takes while the parser reads
# the rest of the file into one cell.
CSV_CELL_MAX_CHARACTERS = 16 * 1024 * 1024


def _raise_csv_field_limit() -> None:
    # The limit is global to the csv module, so it is only ever raised, never lowered.
    if csv.field_size_limit() < CSV_CELL_MAX_CHARACTERS:
        csv.field_size_limit(CSV_CELL_MAX_CHARACTERS)


class _CsvRecords:
    """The non-empty records of a CSV file with their spreadsheet row numbers (the header is row 1).

    `checked` is true on the pass that imports rows: the first pass parsed every row
    already, so a parse error then means the file was changed in between.
    """

    def __init__(self, snapshot: _Snapshot, encoding: str, delimiter: str, checked: bool = False) -> None:
        self.path = snapshot.path
        self.file = str(snapshot.path)
        self.checked = checked
        _raise_csv_field_limit()
        # newline="" keeps line breaks inside quoted cells exactly as written.
        self.reader = csv.reader(_text_lines(snapshot, encoding, newline=""), delimiter=delimiter, strict=True)
        self.number = 0

    def header(self) -> list[str] | None:
        try:
            return next(self.reader, None)
        except csv.Error as error:
            raise SourceFileError(N_("{file}: the header row is not valid CSV: {error}"), file=self.file, error=str(error)) from None
        finally:
            self.number = 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                cells = next(self.reader)
            except StopIteration:
                return
            except csv.Error as error:
                if self.checked:
                    raise _file_changed(self.path) from None
                # CPython's csv module reports the limit only through this message text.
                if "field larger than field limit" in str(error):
                    raise SourceFileError(
                        N_("{file}: row {row} has a cell longer than {limit} characters. Often a quote that is never closed turns the rest of the file into one cell: fix the quoting, or shorten the cell. Nothing was imported."),
                        file=self.file,
                        row=self.number + 1,
                        limit=csv.field_size_limit(),
                    ) from None
                raise SourceFileError(
                    N_("{file}: row {row} is not valid CSV ({error}). Fix the quoting in that row and import again; nothing was imported."),
                    file=self.file,
                    row=self.number + 1,
                    error=str(error),
                ) from None
            # The spreadsheet row number: the reader's line count includes line breaks in cells.
            self.number += 1
            if any(cell.strip() for cell in cells):
                yield self.number, cells


def _csv_header(records: _CsvRecords, file: str) -> tuple[str, ...]:
    header = records.header()
    if not header:
        raise SourceFileError(N_("{file}: is empty; the first row must name the columns."), file=file)
    return _check_header([name.strip() for name in header], file)


def _csv_row(number: int, cells: list[str], columns: tuple[str, ...], delimiter: str) -> tuple[SourceRow, RowRejected | None]:
    # Empty cells after the last column (a trailing comma) change nothing.
    while len(cells) > len(columns) and not cells[-1].strip():
        cells.pop()
    values = {name: (cells[index] if index < len(cells) else "") for index, name in enumerate(columns)}
    if len(cells) == len(columns):
        return SourceRow(number=number, values=values), None
    error = RowRejected(
        N_("row {row}: has {cells} cells but the header has {columns} columns. Fix the row (often a missing or extra separator {delimiter!r}) and import it again."),
        row=number,
        cells=len(cells),
        columns=len(columns),
        delimiter=delimiter,
    )
    return SourceRow(number=number, values=values), error


def _open_jsonl(snapshot: _Snapshot, encoding: str) -> SourceStream:
    """Count the non-blank lines; each one becomes a row or an unreadable row."""
    count = sum(1 for _number, _line in _jsonl_lines(snapshot, encoding))

    def read() -> Iterator[tuple[SourceRow, RowRejected | None]]:
        for number, line in _jsonl_lines(snapshot, encoding):
            yield _jsonl_row(number, line)

    return SourceStream(path=str(snapshot.path), columns=(), format="jsonl", encoding=encoding, row_count=count, read=read)


def _jsonl_lines(snapshot: _Snapshot, encoding: str) -> Iterator[tuple[int, str]]:
    # Lines end at \n only: str.splitlines() would also split at U+2028 inside JSON strings.
    for number, line in enumerate(_text_lines(snapshot, encoding, newline="\n"), start=1):
        line = line.removesuffix("\n").removesuffix("\r")
        if line.strip():
            yield number, line


def _jsonl_row(number: int, line: str) -> tuple[SourceRow, RowRejected | None]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        rejected = RowRejected(
            N_("row {row}: not valid JSON ({error} at column {column}). Each line must hold one JSON object."),
            row=number,
            error=error.msg,
            column=error.colno,
        )
        return SourceRow(number=number, values={"line": line}), rejected
    if not isinstance(record, dict):
        rejected = RowRejected(
            N_("row {row}: holds a JSON {kind}, not an object. Each line must hold one JSON object."),
            row=number,
            kind=type(record).__name__,
        )
        return SourceRow(number=number, values={"line": line}), rejected
    return SourceRow(number=number, values=record), None


def _open_xlsx(snapshot: _Snapshot, source: SourceSpec) -> SourceStream:
    """Read the header and the sheet's size; `items()` opens the workbook again and streams its rows."""
    path = snapshot.path
    with _worksheet(path, source) as sheet:
        cells = sheet.iter_rows(values_only=True)
        columns = _sheet_header(cells, str(path))
        count = max((sheet.max_row or 1) - 1, 0)

    def read() -> Iterator[tuple[SourceRow, RowRejected | None]]:
        # The workbook stays open while its rows are read, so only a change before
        # this point can mix two versions of the file.
        snapshot.check_unchanged()
        with _worksheet(path, source) as sheet:
            cells = sheet.iter_rows(values_only=True)
            _sheet_header(cells, str(path))
            for number, row in enumerate(cells, start=2):
                values = {name: _cell_value(row[index] if index < len(row) else None) for index, name in enumerate(columns)}
                if any(value not in ("", None) for value in values.values()):
                    yield SourceRow(number=number, values=values), None

    return SourceStream(path=str(path), columns=columns, format="xlsx", encoding=None, row_count=count, read=read)


@contextlib.contextmanager
def _worksheet(path: Path, source: SourceSpec) -> Iterator[Any]:
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
            yield workbook[source.sheet]
        else:
            yield workbook.worksheets[0]
    finally:
        workbook.close()


def _sheet_header(cells: Iterator[tuple[Any, ...]], file: str) -> tuple[str, ...]:
    header = next(cells, None)
    if header is None or not any(cell is not None for cell in header):
        raise SourceFileError(N_("{file}: is empty; the first row must name the columns."), file=file)
    # Trailing empty header cells are common in edited sheets; ignore them.
    names = [("" if cell is None else str(cell).strip()) for cell in header]
    while names and not names[-1]:
        names.pop()
    return _check_header(names, file)


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
