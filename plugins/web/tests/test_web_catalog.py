"""The zh_CN catalog translates every message of the plugin, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from wenti_web.catalog import extract

LOCALE = Path(__file__).resolve().parents[1] / "src" / "wenti_web" / "locale"


def load(locale: str):
    with (LOCALE / locale / "LC_MESSAGES" / "wenti_web.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)[^}]*\}", text))


def test_every_message_has_a_chinese_translation():
    catalog = load("zh_CN")
    translated = {}
    for message in catalog:
        if not message.id:
            continue
        # Plural entries carry (singular, plural) ids and a tuple of forms.
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            translated[msgid] = all(strings)

    missing = [msgid for msgid in extract() if not translated.get(msgid)]

    assert missing == []


def test_translations_keep_placeholders():
    catalog = load("zh_CN")

    wrong = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        if placeholders(message.id) != placeholders(message.string):
            wrong.append(message.id)

    assert wrong == []


def test_english_catalog_names_runtime_keys():
    catalog = load("en")
    keys = {message.id for message in catalog if message.id}

    assert "priority.critical" in keys
    assert "role.queue_manager" in keys
    assert catalog.get("role.agent").string == "Agent"
