"""Import issues from CSV, Excel and JSON Lines files through a TOML mapping.

    mapping = load_mapping("examples/mappings/hadoop_jira_bugs_en.toml")
    report = run_import(app, ctx, "bugs.csv", mapping)

See `docs/import.md` for the mapping format.
"""

from wenti.importing.mapping import Mapping, MappingError, load_mapping, parse_mapping
from wenti.importing.readers import SourceFileError, SourceStream, SourceTable, decode_text, detect_encoding, open_source, read_table
from wenti.importing.runner import ImportReport, Rejection, RejectsFile, run_import, write_rejects
from wenti.importing.transform import RowMapper, RowRejected

__all__ = [
    "ImportReport",
    "Mapping",
    "MappingError",
    "Rejection",
    "RejectsFile",
    "RowMapper",
    "RowRejected",
    "SourceFileError",
    "SourceStream",
    "SourceTable",
    "decode_text",
    "detect_encoding",
    "load_mapping",
    "open_source",
    "parse_mapping",
    "read_table",
    "run_import",
    "write_rejects",
]
