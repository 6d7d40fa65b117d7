"""Checks on uploaded files: size, name and whether the bytes match the declared type.

The content type is decided from the bytes (puremagic signatures), not from the
browser's label: a file whose bytes are a known executable or whose bytes contradict
its label is rejected. Text formats have no signature, so they are accepted as
`text/plain` only when the bytes decode as UTF-8 (or GB18030) without control bytes.
"""

from __future__ import annotations

import unicodedata

import puremagic

# Types users may attach, by the type the bytes show. Anything else is rejected.
ALLOWED_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
}

# Labels that say "I don't know"; they never contradict what the bytes show.
_GENERIC_LABELS = {"", "application/octet-stream", "binary/octet-stream"}

_OFFICE_EXTENSIONS = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

MAX_FILENAME_CHARS = 200


class UploadRejected(Exception):
    """An upload that must not be stored. `message_id` is a gettext msgid; `status` the HTTP status."""

    def __init__(self, message_id: str, status: int, **params: object) -> None:
        super().__init__(message_id.format(**params))
        self.message_id = message_id
        self.status = status
        self.params = params


def clean_filename(name: str) -> str:
    """Return the display name of an upload: the last path part, no control characters.

    The name is only ever shown and sent back in `Content-Disposition`; files are
    stored under generated ids, so this protects the people who download the file.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise UploadRejected("The file name {name!r} contains control characters. Rename the file and upload it again.", 400, name=name)
    name = name.strip().strip(".")
    if not name:
        raise UploadRejected("The file has no usable name. Rename the file and upload it again.", 400)
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        keep = MAX_FILENAME_CHARS - len(extension) - 1
        name = f"{stem[:keep]}.{extension}" if dot and keep > 0 else name[:MAX_FILENAME_CHARS]
    return name


def _looks_like_text(data: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text)
    return False


def _type_from_bytes(data: bytes, filename: str) -> str | None:
    try:
        matches = puremagic.magic_string(data[:8192])
    except puremagic.PureError:
        matches = []
    mime_types = [match.mime_type for match in matches if match.mime_type]
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""

    # Office documents are zip archives; the extension decides which one.
    if mime_types and any(t in ("application/zip", "application/x-zip-compressed") for t in mime_types[:3]):
        return _OFFICE_EXTENSIONS.get(extension, "application/zip")
    for mime_type in mime_types:
        if mime_type in ALLOWED_TYPES:
            return mime_type
    if mime_types:
        return mime_types[0]
    if _looks_like_text(data):
        return "text/csv" if extension == ".csv" else "text/plain"
    return None


def check_upload(data: bytes, filename: str, declared_type: str, max_bytes: int) -> tuple[str, str]:
    """Validate one upload; return (clean file name, content type from the bytes).

    Raises `UploadRejected` with 413 for a file over `max_bytes`, 415 for a type that
    is not allowed or that contradicts `declared_type`, 400 for a bad name or an empty file.
    """
    if len(data) > max_bytes:
        raise UploadRejected(
            "The file is {size} bytes, more than the limit of {limit} bytes. Upload a smaller file.",
            413,
            size=len(data),
            limit=max_bytes,
        )
    name = clean_filename(filename)
    if not data:
        raise UploadRejected("The file {name} is empty.", 400, name=name)

    detected = _type_from_bytes(data, name)
    if detected is None or detected not in ALLOWED_TYPES:
        raise UploadRejected(
            "Files of type {type} cannot be attached. Allowed are images, PDF, text, CSV, ZIP and Office documents.",
            415,
            type=detected or "unknown",
        )
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    if declared not in _GENERIC_LABELS and not _compatible(declared, detected):
        raise UploadRejected(
            "The file {name} is labelled {declared} but its content is {detected}. Upload the file with its real type.",
            415,
            name=name,
            declared=declared,
            detected=detected,
        )
    return name, detected


def _compatible(declared: str, detected: str) -> bool:
    if declared == detected:
        return True
    if declared.startswith("text/") and detected.startswith("text/"):
        return True
    # Browsers label zip-based Office files and CSV in several ways.
    aliases = {
        "application/x-zip-compressed": "application/zip",
        "image/jpg": "image/jpeg",
        "image/pjpeg": "image/jpeg",
        "application/csv": "text/csv",
        "application/vnd.ms-excel": "text/csv",
    }
    if aliases.get(declared) == detected:
        return True
    return detected in _OFFICE_EXTENSIONS.values() and declared in ("application/zip", "application/x-zip-compressed")


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the RFC 6266 / RFC 5987 `filename*`."""
    from urllib.parse import quote

    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
