"""The filesystem blob store: attachment bytes under generated ids.

Blob ids are random hex strings, never derived from the uploaded file name; a file
lives at `<root>/<id[:2]>/<id>`, written to a temporary name first and renamed, so a
crash never leaves a half-written blob under a real id.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobNotFound(KeyError):
    """Raised by `get` for an id with no stored bytes."""


class FilesystemBlobStore:
    """Stores bytes in files under `root`; see `wenti.records.BlobStore` for the interface."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, blob_id: str) -> Path:
        if not _BLOB_ID.match(blob_id):
            raise ValueError(f"invalid blob id {blob_id!r}: expected 32 lowercase hex digits")
        return self.root / blob_id[:2] / blob_id

    def put(self, data: bytes, content_type: str = "application/octet-stream") -> str:
        blob_id = secrets.token_hex(16)
        path = self._path(blob_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return blob_id

    def get(self, blob_id: str) -> bytes:
        path = self._path(blob_id)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(blob_id) from None

    def delete(self, blob_id: str) -> None:
        self._path(blob_id).unlink(missing_ok=True)
