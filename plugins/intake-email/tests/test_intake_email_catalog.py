"""The zh_CN catalog of the intake-email plugin translates every message its code marks, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "wenti_intake_email"


def marked_messages() -> set[str]:
    """Return every string the package passes to `_()` or `N_()`."""
    found = extract_from_dir(str(PACKAGE), method_map=[("**.py", "python")], keywords={"_": None, "N_": None})
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def chinese_catalog() -> dict[str, str]:
    with (PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES" / "wenti_intake_email.po").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    return {message.id: message.string for message in catalog if message.id and isinstance(message.id, str)}


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)[^}]*\}", text))


def test_marked_messages_have_chinese():
    catalog = chinese_catalog()

    missing = sorted(message for message in marked_messages() if not catalog.get(message))

    assert missing == []


def test_translations_keep_placeholders():
    catalog = chinese_catalog()

    wrong = sorted(msgid for msgid, text in catalog.items() if text and placeholders(msgid) != placeholders(text))

    assert wrong == []
